using System.Text;
using Migu.Core.IO;
using ScottPlot;
using SkiaSharp;

namespace Migu.Reports.Charts;

/// <summary>
/// Plots drawn side by side in one image (one panel per model), at a fixed pixel size. Written
/// atomically as PNG or SVG, like <see cref="ChartImage"/>.
/// </summary>
public sealed class PanelChartImage : IDisposable
{
    private readonly Multiplot multiplot;

    public PanelChartImage(IReadOnlyList<Plot> panels, int width, int height)
    {
        if (panels.Count == 0)
        {
            throw new ArgumentException("a chart needs at least one panel", nameof(panels));
        }

        Panels = panels;
        Width = width;
        Height = height;
        multiplot = new Multiplot(panels[0]) { Layout = new ScottPlot.MultiplotLayouts.Columns() };
        foreach (Plot p in panels.Skip(1))
        {
            multiplot.AddPlot(p);
        }
    }

    public IReadOnlyList<Plot> Panels { get; }

    public int Width { get; }

    public int Height { get; }

    public byte[] Png()
    {
        using var surface = SKSurface.Create(new SKImageInfo(Width, Height));
        multiplot.Render(surface);
        using SKImage image = surface.Snapshot();
        using SKData data = image.Encode(SKEncodedImageFormat.Png, 100);
        return data.ToArray();
    }

    public string Svg()
    {
        using var stream = new MemoryStream();
        // The SVG canvas writes its document when it is disposed, so read the stream after that.
        using (var managed = new SKManagedWStream(stream))
        using (SKCanvas canvas = SKSvgCanvas.Create(SKRect.Create(Width, Height), managed))
        {
            multiplot.Render(canvas, new PixelRect(0, Width, Height, 0));
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    public void Save(string path, ReportImageFormat format)
    {
        if (format == ReportImageFormat.Svg)
        {
            AtomicFile.WriteAllText(path, Svg());
        }
        else
        {
            AtomicFile.WriteAllBytes(path, Png());
        }
    }

    public void Dispose()
    {
        foreach (Plot p in Panels)
        {
            p.Dispose();
        }
    }
}
