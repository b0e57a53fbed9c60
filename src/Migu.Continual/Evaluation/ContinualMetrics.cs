namespace Migu.Continual.Evaluation;

/// <summary>
/// Continual-learning measures from an accuracy matrix a, where a[i][j] is the score on task j
/// after training task i. Every row has one entry per task of the stream (T); a run in progress
/// has R ≤ T rows, and the measures are then those of the stream so far: tasks 0..R−1 (R = T at
/// the end, which gives the usual definitions). A measure that needs more than one finished task,
/// or a baseline that was not scored, is null.
/// <list type="bullet">
/// <item>ACC = mean over j &lt; R of a[R−1][j].</item>
/// <item>BWT = mean over j &lt; R−1 of a[R−1][j] − a[j][j] (negative: forgetting).</item>
/// <item>FWT = mean over 1 ≤ j &lt; R of a[j−1][j] − b[j], b the scores before any training.</item>
/// <item>Forgetting = mean over j &lt; R−1 of (max over l &lt; R−1 of a[l][j]) − a[R−1][j].</item>
/// </list>
/// </summary>
public static class ContinualMetrics
{
    public static double? Acc(IReadOnlyList<IReadOnlyList<double>> a)
    {
        int r = FinishedTasks(a);
        return r == 0 ? null : Enumerable.Range(0, r).Average(j => a[r - 1][j]);
    }

    public static double? Bwt(IReadOnlyList<IReadOnlyList<double>> a)
    {
        int r = FinishedTasks(a);
        return r < 2 ? null : Enumerable.Range(0, r - 1).Average(j => a[r - 1][j] - a[j][j]);
    }

    public static double? Fwt(IReadOnlyList<IReadOnlyList<double>> a, IReadOnlyList<double>? baseline)
    {
        int r = FinishedTasks(a);
        if (baseline is null || r < 2)
        {
            return null;
        }

        if (baseline.Count != a[0].Count)
        {
            throw new ArgumentException($"the baseline has {baseline.Count} entries for {a[0].Count} tasks", nameof(baseline));
        }

        return Enumerable.Range(1, r - 1).Average(j => a[j - 1][j] - baseline[j]);
    }

    public static double? Forgetting(IReadOnlyList<IReadOnlyList<double>> a)
    {
        int r = FinishedTasks(a);
        return r < 2
            ? null
            : Enumerable.Range(0, r - 1).Average(j => Enumerable.Range(0, r - 1).Max(l => a[l][j]) - a[r - 1][j]);
    }

    /// <summary>R, after checking that the matrix is rectangular with no more rows than tasks.</summary>
    internal static int FinishedTasks(IReadOnlyList<IReadOnlyList<double>> a)
    {
        if (a.Count == 0)
        {
            return 0;
        }

        int tasks = a[0].Count;
        if (a.Any(row => row.Count != tasks))
        {
            throw new ArgumentException("the rows of the matrix differ in length", nameof(a));
        }

        return a.Count <= tasks
            ? a.Count
            : throw new ArgumentException($"{a.Count} rows for {tasks} tasks: a sequential run has at most one row per task", nameof(a));
    }
}
