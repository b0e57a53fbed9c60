using Migu.Reports.Charts;

namespace Migu.Reports.Writing;

/// <summary>Where a report goes and what its images are.</summary>
public sealed record ReportOptions
{
    /// <summary>Directory of report.md; images go to its figures/ folder.</summary>
    public required string OutDirectory { get; init; }

    public ReportImageFormat Format { get; init; } = ReportImageFormat.Png;
}
