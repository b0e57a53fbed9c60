namespace Migu.Reports.Analysis;

/// <summary>
/// Groups that differ only in MIGU's threshold T: ACC against T, with MIGU off (or T = 0) as the
/// baseline when such runs are present.
/// </summary>
public sealed record ThresholdSweep
{
    /// <summary>The configuration without T, e.g. "ft+MIGU" or "lora+MIGU (update)".</summary>
    public required string Label { get; init; }

    /// <summary>One point per threshold, ascending T; each pools the seeds of one group.</summary>
    public required IReadOnlyList<SweepPoint> Points { get; init; }

    /// <summary>The same configuration with MIGU off; null when the report has none.</summary>
    public RunGroup? Baseline { get; init; }
}

/// <summary>ACC (mean ± sample std over finished seeds) of the group run at threshold <paramref name="Threshold"/>.</summary>
public sealed record SweepPoint(double Threshold, RunGroup Group);
