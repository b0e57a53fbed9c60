namespace Migu.Reports.Writing;

/// <summary>What a magnitude analysis report wrote.</summary>
public sealed record AnalysisReportResult
{
    /// <summary>Full path of analysis.md.</summary>
    public required string ReportPath { get; init; }

    /// <summary>Full path of analysis.json.</summary>
    public required string JsonPath { get; init; }

    /// <summary>Full paths of the images, in the order analysis.md shows them.</summary>
    public required IReadOnlyList<string> Images { get; init; }
}
