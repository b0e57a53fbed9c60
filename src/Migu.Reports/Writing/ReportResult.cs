using Migu.Reports.Analysis;

namespace Migu.Reports.Writing;

/// <summary>What a report wrote and the analysis behind it (for a terminal summary).</summary>
public sealed record ReportResult
{
    /// <summary>Full path of report.md.</summary>
    public required string ReportPath { get; init; }

    /// <summary>Full paths of the images, in the order report.md shows them.</summary>
    public required IReadOnlyList<string> Images { get; init; }

    public required IReadOnlyList<RunGroup> Groups { get; init; }

    public required TaskSets TaskSets { get; init; }

    public required IReadOnlyList<ThresholdSweep> Sweeps { get; init; }
}
