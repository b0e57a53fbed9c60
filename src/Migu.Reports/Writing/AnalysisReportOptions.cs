using Migu.Reports.Charts;

namespace Migu.Reports.Writing;

/// <summary>Where a magnitude analysis goes and how its figures look.</summary>
public sealed record AnalysisReportOptions
{
    /// <summary>Directory of analysis.md and analysis.json; images go to its figures/ folder.</summary>
    public required string OutDirectory { get; init; }

    public ReportImageFormat Format { get; init; } = ReportImageFormat.Png;

    /// <summary>How the distribution chart lays out the units.</summary>
    public DistributionOrder Order { get; init; } = DistributionOrder.Shared;

    /// <summary>The distributions' y axis: log, linear, or log only when the shares span decades.</summary>
    public DistributionScale Scale { get; init; } = DistributionScale.Auto;
}
