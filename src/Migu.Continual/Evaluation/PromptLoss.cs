using Migu.Continual.Training;
using Migu.Models;
using static TorchSharp.torch;

namespace Migu.Continual.Evaluation;

/// <summary>The model's mean loss per answer token on prompt/answer pairs (teacher forced, eval mode, no gradients).</summary>
public static class PromptLoss
{
    public static double? Of(LanguageModel model, ExampleEncoder encoder, IReadOnlyList<EncodedExample> examples, int batchSize, Device device)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(examples);
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            double sum = 0;
            long count = 0;
            foreach (int[] batch in BatchPlan.Sequential(examples.Count, Math.Max(1, batchSize)))
            {
                using var scope = NewDisposeScope();
                // One forward per batch; each answer's token count weighs its batch's mean.
                long tokens = batch.Sum(i => (long)examples[i].Target.Length);
                Tensor loss = model.forward(encoder.Collate([.. batch.Select(i => examples[i])], device)).Loss!;
                sum += loss.item<float>() * tokens;
                count += tokens;
            }

            return count == 0 ? null : sum / count;
        }
        finally
        {
            model.train(wasTraining);
        }
    }
}
