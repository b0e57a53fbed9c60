using System.Text;
using System.Text.Json;
using Migu.Continual.Recipes;
using Migu.Continual.Runs;

namespace Migu.Reports.Tests;

/// <summary>Writes hand-made run directories (recipe.json, metrics.json, loss.csv) into a temp folder, as the runner would.</summary>
internal sealed class RunStoreBuilder : IDisposable
{
    private static readonly JsonSerializerOptions MetricsJson = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    public string Root { get; } = Directory.CreateTempSubdirectory("migu-reports-").FullName;

    /// <summary>Writes one run; <paramref name="loss"/> null leaves out loss.csv. Returns the run directory.</summary>
    public string AddRun(string name, Recipe recipe, RunMetrics metrics, string? loss)
    {
        string dir = Path.Combine(Root, name);
        Directory.CreateDirectory(dir);
        File.WriteAllText(Path.Combine(dir, "recipe.json"), RecipeJson.Serialize(recipe));
        File.WriteAllText(Path.Combine(dir, "metrics.json"), JsonSerializer.Serialize(metrics, MetricsJson));
        if (loss is not null)
        {
            File.WriteAllText(Path.Combine(dir, "loss.csv"), loss);
        }

        return dir;
    }

    /// <summary>
    /// Metrics of a run from its accuracy matrix, with ACC, BWT, FWT and forgetting by their
    /// definitions (as the runner computes them); finished when every task has a row.
    /// </summary>
    public static RunMetrics Metrics(IReadOnlyList<string> tasks, double[][] matrix, double[]? baseline = null, double seconds = 600)
    {
        int t = tasks.Count;
        bool finished = matrix.Length == t;
        double[] last = matrix[^1];
        return new RunMetrics
        {
            Tasks = tasks,
            AccuracyMatrix = matrix,
            MacroF1Matrix = [.. matrix.Select(r => (IReadOnlyList<double>)[.. r.Select(v => v * 0.9)])],
            BaselineAccuracy = baseline,
            Acc = finished ? last.Average() : null,
            Bwt = finished ? Enumerable.Range(0, t - 1).Average(j => last[j] - matrix[j][j]) : null,
            Fwt = finished && baseline is not null ? Enumerable.Range(1, t - 1).Average(j => matrix[j - 1][j] - baseline[j]) : null,
            Forgetting = finished ? Enumerable.Range(0, t - 1).Average(j => Enumerable.Range(0, t - 1).Max(l => matrix[l][j]) - last[j]) : null,
            TestSizes = [.. tasks.Select(_ => 100)],
            TotalSeconds = seconds,
            Finished = finished,
        };
    }

    /// <summary>Metrics of the multi-task bound: one row after joint training.</summary>
    public static RunMetrics JointMetrics(IReadOnlyList<string> tasks, double[] row) => new()
    {
        Tasks = tasks,
        AccuracyMatrix = [row],
        MacroF1Matrix = [row],
        Acc = row.Average(),
        TotalSeconds = 300,
        Finished = true,
    };

    /// <summary>loss.csv with <paramref name="stepsPerTask"/> steps per task, loss falling within each task.</summary>
    public static string Loss(IReadOnlyList<string> tasks, int stepsPerTask)
    {
        var csv = new StringBuilder("step,task_index,task,epoch,loss,lr,tokens,seconds\n");
        int step = 0;
        for (int k = 0; k < tasks.Count; k++)
        {
            for (int s = 0; s < stepsPerTask; s++, step++)
            {
                double loss = 0.5 + (2.0 / (1 + s));
                csv.Append(FormattableString.Invariant($"{step},{k},{tasks[k]},0,{loss:0.####},0.0001,{step * 100},{step * 0.5:0.##}\n"));
            }
        }

        return csv.ToString();
    }

    public void Dispose() => Directory.Delete(Root, recursive: true);
}
