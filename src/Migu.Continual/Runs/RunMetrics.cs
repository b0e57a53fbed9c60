namespace Migu.Continual.Runs;

/// <summary>
/// <c>metrics.json</c> of a run store: the accuracy matrix after every task and the measures
/// derived from it. Accuracies and F1 are fractions in [0, 1]. Row i is "after training task i"
/// (for the multi-task bound, one row: after joint training); column j is task j of
/// <see cref="Tasks"/>. A run in progress has one row per finished task.
/// </summary>
public sealed record RunMetrics
{
    public int Schema { get; init; } = 1;

    /// <summary>Dataset names in training order.</summary>
    public required IReadOnlyList<string> Tasks { get; init; }

    /// <summary>a[i][j]: accuracy on task j after training task i.</summary>
    public required IReadOnlyList<IReadOnlyList<double>> AccuracyMatrix { get; init; }

    /// <summary>Macro-F1 on task j after training task i (labels of task j; a prediction outside them counts as wrong).</summary>
    public required IReadOnlyList<IReadOnlyList<double>> MacroF1Matrix { get; init; }

    /// <summary>b[j]: accuracy of the model before any training (what forward transfer is measured against); null when not evaluated.</summary>
    public IReadOnlyList<double>? BaselineAccuracy { get; init; }

    public IReadOnlyList<double>? BaselineMacroF1 { get; init; }

    /// <summary>Mean of the last row.</summary>
    public double? Acc { get; init; }

    /// <summary>Backward transfer: mean over j &lt; T−1 of a[T−1][j] − a[j][j]. Negative = forgetting.</summary>
    public double? Bwt { get; init; }

    /// <summary>Forward transfer: mean over j ≥ 1 of a[j−1][j] − b[j].</summary>
    public double? Fwt { get; init; }

    /// <summary>Average forgetting: mean over j &lt; T−1 of max over l &lt; T−1 of a[l][j] − a[T−1][j].</summary>
    public double? Forgetting { get; init; }

    /// <summary>Mean of the last row of the macro-F1 matrix.</summary>
    public double? MacroF1 { get; init; }

    /// <summary>Number of scored examples per task.</summary>
    public IReadOnlyList<int>? TestSizes { get; init; }

    /// <summary>Per task, in training order (one entry for the multi-task bound).</summary>
    public IReadOnlyList<TaskTiming> Timings { get; init; } = [];

    public double TotalSeconds { get; init; }

    /// <summary>True once every task is trained and evaluated.</summary>
    public bool Finished { get; init; }
}

/// <summary>Where the time of one task went.</summary>
public sealed record TaskTiming
{
    public required string Task { get; init; }

    public double TrainSeconds { get; init; }

    public double EvalSeconds { get; init; }

    public int Steps { get; init; }

    /// <summary>Non-padding tokens seen in training (source + target).</summary>
    public long TrainTokens { get; init; }

    public double TokensPerSecond { get; init; }
}
