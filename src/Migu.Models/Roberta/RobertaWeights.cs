using Migu.Models.Encoders;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Roberta;

/// <summary>What both RoBERTa heads share about their weights: fresh initialisation and checkpoint key rules.</summary>
internal static class RobertaWeights
{
    /// <summary>transformers' initialisation of a fresh model; the pad rows of the word and position embeddings zero.</summary>
    public static void Initialize(nn.Module model, RobertaConfig config) =>
        EncoderWeights.Initialize(model, config, PositionScheme.AfterPadding);

    /// <summary>
    /// Stored keys neither head needs: position/token-type id buffers of older checkpoints and the
    /// pooler, which transformers' MLM and classification models do not build.
    /// </summary>
    public static bool IsIgnorable(string key) =>
        key is "roberta.embeddings.position_ids" or "roberta.embeddings.token_type_ids"
        || key.StartsWith("roberta.pooler.", StringComparison.Ordinal);
}
