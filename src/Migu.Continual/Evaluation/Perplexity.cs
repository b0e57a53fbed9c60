using Migu.Continual.Pretraining;
using Migu.Continual.Training;
using Migu.Core;
using Migu.Models;
using static TorchSharp.torch;

namespace Migu.Continual.Evaluation;

/// <summary>
/// Perplexity of a decoder on held-out text: the text packed into windows (BOS … EOS around each
/// document, as in pre-training), each window read once from its start — no sliding overlap — and
/// exp of the mean negative log-likelihood over every predicted token (a window's first token is
/// not predicted).
/// </summary>
public static class Perplexity
{
    public static double Of(LanguageModel model, IReadOnlyList<int[]> windows, ObjectiveTokens tokens, int batchSize, Device device)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!model.Family.IsDecoderOnly)
        {
            throw new MiguUserException("perplexity is measured for decoder-only (Llama) models");
        }

        var data = new PackedTextData(windows, new CausalLanguageModeling(tokens), default(BatchDraw));
        double? loss = HeldOutLoss.Of(model, data, batchSize, device);
        return loss is double l ? Math.Exp(l) : throw new MiguUserException("perplexity: the text has no token to predict");
    }
}
