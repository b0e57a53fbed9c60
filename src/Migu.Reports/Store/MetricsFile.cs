using System.Text.Json;
using Migu.Continual.Runs;
using Migu.Core;

namespace Migu.Reports.Store;

/// <summary>
/// Reads a run's <c>metrics.json</c> (<see cref="RunMetrics"/> with snake_case keys) and checks
/// that its shapes agree, so plots never index past a row. A run in progress has fewer matrix rows
/// than tasks; that is accepted.
/// </summary>
public static class MetricsFile
{
    /// <summary>The schema this reader understands.</summary>
    public const int Schema = 1;

    private static readonly JsonSerializerOptions Options = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        AllowTrailingCommas = true,
        ReadCommentHandling = JsonCommentHandling.Skip,
    };

    /// <summary>Reads <paramref name="path"/>; <see cref="MiguUserException"/> (one line) when missing or malformed.</summary>
    public static RunMetrics Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new MiguUserException($"{path}: not found");
        }

        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>Parses and checks metrics JSON; <paramref name="source"/> names the file in errors.</summary>
    public static RunMetrics Parse(string json, string source)
    {
        RunMetrics? metrics;
        try
        {
            metrics = JsonSerializer.Deserialize<RunMetrics>(json, Options);
        }
        catch (JsonException e)
        {
            string where = e.Path is { Length: > 0 } p ? $" at {p}" : string.Empty;
            throw new MiguUserException($"{source}: not valid metrics JSON{where}: {e.Message.Split('\n')[0].Trim()}", e);
        }

        if (metrics is null)
        {
            throw new MiguUserException($"{source}: the metrics are null");
        }

        string? problem = FindProblem(metrics);
        return problem is null ? metrics : throw new MiguUserException($"{source}: {problem}");
    }

    private static string? FindProblem(RunMetrics m)
    {
        if (m.Schema > Schema)
        {
            return $"schema {m.Schema} is newer than this migu reads ({Schema}); update migu";
        }

        int t = m.Tasks.Count;
        if (t == 0 || m.Tasks.Any(string.IsNullOrWhiteSpace))
        {
            return "tasks must be a non-empty list of names";
        }

        return MatrixProblem("accuracy_matrix", m.AccuracyMatrix, t)
            ?? MatrixProblem("macro_f1_matrix", m.MacroF1Matrix, t)
            ?? VectorProblem("baseline_accuracy", m.BaselineAccuracy, t)
            ?? VectorProblem("baseline_macro_f1", m.BaselineMacroF1, t)
            ?? (m.TestSizes is { } sizes && sizes.Count != t ? $"test_sizes has {sizes.Count} entries for {t} tasks" : null);
    }

    private static string? MatrixProblem(string name, IReadOnlyList<IReadOnlyList<double>> rows, int tasks)
    {
        if (rows.Count > tasks)
        {
            return $"{name} has {rows.Count} rows for {tasks} tasks";
        }

        for (int i = 0; i < rows.Count; i++)
        {
            if (rows[i] is null || rows[i].Count != tasks)
            {
                return $"{name} row {i} has {rows[i]?.Count ?? 0} values for {tasks} tasks";
            }

            if (rows[i].Any(v => !IsFraction(v)))
            {
                return $"{name} row {i} has a value outside [0, 1]";
            }
        }

        return null;
    }

    private static string? VectorProblem(string name, IReadOnlyList<double>? values, int tasks) => values switch
    {
        null => null,
        _ when values.Count != tasks => $"{name} has {values.Count} values for {tasks} tasks",
        _ when values.Any(v => !IsFraction(v)) => $"{name} has a value outside [0, 1]",
        _ => null,
    };

    private static bool IsFraction(double v) => v is >= 0 and <= 1;
}
