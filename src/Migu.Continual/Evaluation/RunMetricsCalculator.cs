using Migu.Continual.Runs;

namespace Migu.Continual.Evaluation;

/// <summary>
/// Fills <see cref="RunMetrics"/> from score matrices (fractions in [0, 1]). The runner adds what
/// is not a score (timings, test sizes) with <c>with { … }</c>.
/// </summary>
public static class RunMetricsCalculator
{
    /// <summary>
    /// A sequential run with R ≤ T finished tasks: R rows of T scores each (every task is scored
    /// after every trained task). Measures as in <see cref="ContinualMetrics"/>; MacroF1 is the mean
    /// over the same columns as ACC. Finished when R = T.
    /// </summary>
    public static RunMetrics Sequential(
        IReadOnlyList<string> tasks,
        IReadOnlyList<IReadOnlyList<double>> accuracy,
        IReadOnlyList<IReadOnlyList<double>> macroF1,
        IReadOnlyList<double>? baselineAccuracy = null,
        IReadOnlyList<double>? baselineMacroF1 = null)
    {
        CheckShape(tasks, accuracy, macroF1, baselineAccuracy, baselineMacroF1);
        return new RunMetrics
        {
            Tasks = tasks,
            AccuracyMatrix = accuracy,
            MacroF1Matrix = macroF1,
            BaselineAccuracy = baselineAccuracy,
            BaselineMacroF1 = baselineMacroF1,
            Acc = ContinualMetrics.Acc(accuracy),
            Bwt = ContinualMetrics.Bwt(accuracy),
            Fwt = ContinualMetrics.Fwt(accuracy, baselineAccuracy),
            Forgetting = ContinualMetrics.Forgetting(accuracy),
            MacroF1 = ContinualMetrics.Acc(macroF1),
            Finished = accuracy.Count == tasks.Count,
        };
    }

    /// <summary>
    /// The multi-task bound: one row, after joint training on every task. ACC and MacroF1 are the
    /// means of that row; transfer and forgetting do not apply and stay null.
    /// </summary>
    public static RunMetrics Joint(
        IReadOnlyList<string> tasks,
        IReadOnlyList<double> accuracy,
        IReadOnlyList<double> macroF1,
        IReadOnlyList<double>? baselineAccuracy = null,
        IReadOnlyList<double>? baselineMacroF1 = null)
    {
        CheckShape(tasks, [accuracy], [macroF1], baselineAccuracy, baselineMacroF1);
        return new RunMetrics
        {
            Tasks = tasks,
            AccuracyMatrix = [accuracy],
            MacroF1Matrix = [macroF1],
            BaselineAccuracy = baselineAccuracy,
            BaselineMacroF1 = baselineMacroF1,
            Acc = accuracy.Average(),
            MacroF1 = macroF1.Average(),
            Finished = true,
        };
    }

    private static void CheckShape(
        IReadOnlyList<string> tasks,
        IReadOnlyList<IReadOnlyList<double>> accuracy,
        IReadOnlyList<IReadOnlyList<double>> macroF1,
        IReadOnlyList<double>? baselineAccuracy,
        IReadOnlyList<double>? baselineMacroF1)
    {
        if (tasks.Count == 0)
        {
            throw new ArgumentException("no tasks", nameof(tasks));
        }

        if (accuracy.Count != macroF1.Count)
        {
            throw new ArgumentException($"{accuracy.Count} accuracy rows but {macroF1.Count} macro-F1 rows", nameof(macroF1));
        }

        foreach (IReadOnlyList<double> row in accuracy.Concat(macroF1))
        {
            if (row.Count != tasks.Count)
            {
                throw new ArgumentException($"a row has {row.Count} scores for {tasks.Count} tasks", nameof(accuracy));
            }
        }

        if (baselineAccuracy is { } b && b.Count != tasks.Count || baselineMacroF1 is { } f && f.Count != tasks.Count)
        {
            throw new ArgumentException($"a baseline does not have one score per task ({tasks.Count})", nameof(baselineAccuracy));
        }
    }
}
