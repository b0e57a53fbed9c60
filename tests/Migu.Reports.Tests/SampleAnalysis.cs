using Migu.Continual.Analysis;

namespace Migu.Reports.Tests;

/// <summary>Hand-made magnitude analyses for chart and report tests (no model needed).</summary>
internal static class SampleAnalysis
{
    /// <summary>
    /// One model per entry of <paramref name="offDiagonal"/>: every off-diagonal cell of its matrix
    /// (and of each of its two layers, attention and FFN) holds that value; distributions are
    /// geometric over <paramref name="units"/> units, shifted per task.
    /// </summary>
    public static MagnitudeAnalysis Make(string[] tasks, double[] offDiagonal, int units = 16, string[]? labels = null)
    {
        labels ??= [.. offDiagonal.Select((_, k) => k == 0 ? "ft" : $"ft+MIGU{(k > 1 ? $" {k}" : string.Empty)}")];
        return new MagnitudeAnalysis
        {
            Data = "embedded demo data",
            Tasks = tasks,
            Split = "test",
            Samples = [.. tasks.Select(_ => 8)],
            Seed = 42,
            Layers = "all",
            Models = [.. offDiagonal.Select((v, k) => Model(labels[k], tasks.Length, v, units, k))],
        };
    }

    public static double[][] Matrix(int n, double offDiagonal) =>
        [.. Enumerable.Range(0, n).Select(i => Enumerable.Range(0, n).Select(j => i == j ? 1.0 : offDiagonal).ToArray())];

    private static ModelMagnitudes Model(string label, int tasks, double offDiagonal, int units, int seed)
    {
        double[][] distributions = [.. Enumerable.Range(0, tasks).Select(t =>
        {
            double[] raw = [.. Enumerable.Range(0, units).Select(u => Math.Pow(0.8, (u + t + seed) % units))];
            return MagnitudeMath.L1Normalise(raw);
        })];
        return new ModelMagnitudes
        {
            Label = label,
            Model = $"/runs/{label}/checkpoints/task-0{tasks}-last",
            Run = $"/runs/{label}",
            DistributionLayer = "encoder.block.1.layer.1.DenseReluDense.wi",
            Distributions = distributions,
            Similarity = Matrix(tasks, offDiagonal),
            MeanOffDiagonal = offDiagonal,
            Layers =
            [
                new LayerSimilarity { Name = "encoder.block.0.layer.0.SelfAttention.q", Kind = "query", Similarity = Matrix(tasks, offDiagonal - 0.01), MeanOffDiagonal = offDiagonal - 0.01 },
                new LayerSimilarity { Name = "encoder.block.0.layer.1.DenseReluDense.wi", Kind = "feed_forward_up", Similarity = Matrix(tasks, offDiagonal + 0.01), MeanOffDiagonal = offDiagonal + 0.01 },
            ],
        };
    }
}
