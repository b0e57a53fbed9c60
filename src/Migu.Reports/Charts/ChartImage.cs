using ScottPlot;

namespace Migu.Reports.Charts;

/// <summary>A finished plot and the pixel size it is meant to be drawn at.</summary>
public sealed class ChartImage(Plot plot, int width, int height) : IDisposable
{
    public Plot Plot { get; } = plot;

    public int Width { get; } = width;

    public int Height { get; } = height;

    public void Dispose() => Plot.Dispose();
}
