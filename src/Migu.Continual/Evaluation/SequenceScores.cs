using Migu.Continual.Training;
using Migu.Models;
using static TorchSharp.torch;

namespace Migu.Continual.Evaluation;

/// <summary>Σ log p(target tokens | prompt) per example, from one teacher-forced forward pass.</summary>
public static class SequenceScores
{
    public static float[] LogLikelihoods(LanguageModel model, ExampleEncoder encoder, IReadOnlyList<EncodedExample> examples, Device device)
    {
        using var scope = NewDisposeScope();
        ModelBatch batch = encoder.Collate(examples, device);
        Tensor logits = model.forward(batch).Logits; // (B, T, V)
        Tensor labels = batch.Labels!.to(logits.device); // (B, T), −100 off-target
        if (encoder.DecoderOnly)
        {
            // Position t predicts token t + 1.
            logits = logits[.., ..^1];
            labels = labels[.., 1..];
        }

        Tensor logProbs = logits.to(ScalarType.Float32).log_softmax(-1); // (B, T, V)
        Tensor valid = labels.ne(-100); // (B, T)
        Tensor picked = logProbs.gather(-1, labels.clamp_min(0).unsqueeze(-1)).squeeze(-1); // (B, T)
        Tensor sums = picked.mul(valid.to(ScalarType.Float32)).sum(1); // (B)
        return sums.cpu().data<float>().ToArray();
    }
}
