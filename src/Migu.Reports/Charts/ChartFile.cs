using System.Text;
using Migu.Core.IO;

namespace Migu.Reports.Charts;

/// <summary>Writes a chart as PNG or SVG, atomically, so a report never links a half-written image.</summary>
internal static class ChartFile
{
    public static void Save(ChartImage chart, string path, ReportImageFormat format)
    {
        byte[] bytes = format == ReportImageFormat.Svg
            ? Encoding.UTF8.GetBytes(chart.Plot.GetSvgXml(chart.Width, chart.Height))
            : chart.Plot.GetImageBytes(chart.Width, chart.Height, ScottPlot.ImageFormat.Png);
        AtomicFile.WriteAllBytes(path, bytes);
    }
}
