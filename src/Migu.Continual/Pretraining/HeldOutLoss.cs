using Migu.Continual.Training;
using Migu.Models;
using static TorchSharp.torch;

namespace Migu.Continual.Pretraining;

/// <summary>
/// The objective's loss on held-out sequences, in eval mode without gradients: the mean over every
/// label token (batches weighted by their label tokens). The data's fixed draw makes the noise the
/// same at every measurement, so values after different domains compare like with like.
/// </summary>
public static class HeldOutLoss
{
    /// <summary>Mean loss per label token; null when there is nothing to measure.</summary>
    public static double? Of(LanguageModel model, PackedTextData data, int batchSize, Device device)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(data);
        if (data.Count == 0)
        {
            return null;
        }

        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            double sum = 0;
            long count = 0;
            foreach (int[] batch in BatchPlan.Sequential(data.Count, batchSize))
            {
                using var scope = NewDisposeScope();
                ModelBatch modelBatch = data.Collate(batch, device);
                long labels = LabelTokens(modelBatch, model.Family.IsDecoderOnly);
                if (labels == 0)
                {
                    continue;
                }

                Tensor loss = model.forward(modelBatch).Loss ?? throw new InvalidOperationException("the model returned no loss for a batch with labels");
                sum += loss.item<float>() * labels;
                count += labels;
            }

            return count == 0 ? null : sum / count;
        }
        finally
        {
            model.train(wasTraining);
        }
    }

    /// <summary>Tokens that carry loss: labels ≠ −100, without a decoder-only model's first position (nothing predicts it).</summary>
    private static long LabelTokens(ModelBatch batch, bool decoderOnly)
    {
        Tensor labels = batch.Labels!;
        if (decoderOnly)
        {
            labels = labels[.., 1..];
        }

        return labels.ne(-100).sum().item<long>();
    }
}
