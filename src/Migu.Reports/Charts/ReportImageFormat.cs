using Migu.Core;

namespace Migu.Reports.Charts;

/// <summary>What the report's images are written as.</summary>
public enum ReportImageFormat
{
    Png,
    Svg,
}

/// <summary>Names and file extensions of <see cref="ReportImageFormat"/>.</summary>
public static class ReportImageFormats
{
    public static string Extension(this ReportImageFormat format) => format == ReportImageFormat.Svg ? ".svg" : ".png";

    /// <summary>"png" or "svg" (any case); <see cref="MiguUserException"/> otherwise.</summary>
    public static ReportImageFormat Parse(string text) => text.Trim().ToUpperInvariant() switch
    {
        "PNG" => ReportImageFormat.Png,
        "SVG" => ReportImageFormat.Svg,
        _ => throw new MiguUserException($"image format '{text}' is not one of png, svg"),
    };
}
