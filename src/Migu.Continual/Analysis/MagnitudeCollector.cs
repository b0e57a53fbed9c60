using Migu.Continual.Training;
using Migu.Models;
using static TorchSharp.torch;

namespace Migu.Continual.Analysis;

/// <summary>
/// Runs a model over each task's samples the way training sees them (prompt and answer,
/// teacher-forced, right-padded batches; eval mode, no gradients) and returns every chosen layer's
/// Σ|y| per output unit over the task's non-padding tokens.
/// </summary>
internal static class MagnitudeCollector
{
    /// <summary>[task][layer][unit] sums, tasks and layers in the given order; <paramref name="batches"/> turns a task's sample into what the model reads.</summary>
    public static double[][][] Collect(
        LanguageModel model, Func<TaskSample, ITrainingData> batches, IReadOnlyList<AnalysisLayer> layers,
        IReadOnlyList<TaskSample> tasks, int batch, Device device, Action<string>? progress = null)
    {
        var result = new double[tasks.Count][][];
        using var recorders = new ProjectionRecorders(layers);
        for (int t = 0; t < tasks.Count; t++)
        {
            ITrainingData data = batches(tasks[t]);
            for (int start = 0; start < data.Count; start += batch)
            {
                using var scope = NewDisposeScope();
                using var noGrad = no_grad();
                ModelBatch input = data.Collate([.. Enumerable.Range(start, Math.Min(batch, data.Count - start))], device);
                model.call(input); // the projections record as they go; the output is not needed
            }

            result[t] = recorders.TakeAndReset();
            progress?.Invoke($"{tasks[t].Task}: {data.Count} examples, {Enumerable.Range(0, data.Count).Sum(data.TokensOf)} tokens");
        }

        return result;
    }
}
