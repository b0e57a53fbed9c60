using ScottPlot;
using SkiaSharp;

namespace Migu.Reports.Charts;

/// <summary>
/// Answers every typeface request with the embedded DejaVu Sans (bold for bold weights),
/// whatever family was asked for, so charts never depend on the machine's fonts.
/// </summary>
internal sealed class EmbeddedFontResolver(SKTypeface regular, SKTypeface bold) : IFontResolver
{
    public SKTypeface Regular { get; } = regular;

    public SKTypeface Bold { get; } = bold;

    public SKTypeface? CreateTypeface(string fontName, FontWeight weight, FontSlant slant, FontSpacing spacing) =>
        weight >= FontWeight.SemiBold ? Bold : Regular;

    public SKTypeface? CreateTypeface(string fontName, bool bold, bool italic) => bold ? Bold : Regular;
}
