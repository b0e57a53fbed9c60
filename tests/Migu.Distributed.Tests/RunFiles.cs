using System.Globalization;
using Migu.Continual.Runs;

namespace Migu.Distributed.Tests;

/// <summary>What a finished run directory says, in forms tests compare.</summary>
internal static class RunFiles
{
    /// <summary>loss.csv as (step, task, loss, tokens) rows.</summary>
    public static (long Step, int Task, double Loss, long Tokens)[] Losses(string dir) =>
        [.. File.ReadAllLines(Path.Combine(dir, RunStore.LossFile)).Skip(1).Select(line => line.Split(','))
            .Select(f => (long.Parse(f[0], CultureInfo.InvariantCulture), int.Parse(f[1], CultureInfo.InvariantCulture),
                double.Parse(f[4], CultureInfo.InvariantCulture), long.Parse(f[6], CultureInfo.InvariantCulture)))];

    public static RunMetrics Metrics(string dir) => RunStore.ReadMetrics(Path.Combine(dir, RunStore.MetricsFile));

    /// <summary>Every predictions file of the run, by name.</summary>
    public static IReadOnlyDictionary<string, string> Predictions(string dir) =>
        Directory.GetFiles(Path.Combine(dir, "predictions")).ToDictionary(f => Path.GetFileName(f), File.ReadAllText);

    /// <summary>Asserts two runs took the same steps with losses equal within <paramref name="relative"/>, and scored the same.</summary>
    public static void AssertSameTrajectory(string expectedDir, string actualDir, double relative)
    {
        var expected = Losses(expectedDir);
        var actual = Losses(actualDir);
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.Equal((expected[i].Step, expected[i].Task, expected[i].Tokens), (actual[i].Step, actual[i].Task, actual[i].Tokens));
            double tolerance = relative * Math.Abs(expected[i].Loss);
            Assert.True(Math.Abs(expected[i].Loss - actual[i].Loss) <= tolerance, $"step {expected[i].Step}: loss {actual[i].Loss:R}, expected {expected[i].Loss:R} ± {tolerance:G3}");
        }

        RunMetrics a = Metrics(expectedDir);
        RunMetrics b = Metrics(actualDir);
        Assert.True(b.Finished);
        Assert.Equal(a.AccuracyMatrix, b.AccuracyMatrix);
        Assert.Equal(a.MacroF1Matrix, b.MacroF1Matrix);
        Assert.Equal(a.BaselineAccuracy, b.BaselineAccuracy);
        Assert.Equal(Predictions(expectedDir), Predictions(actualDir));
    }
}
