using Migu.Reports.Analysis;
using ScottPlot;

namespace Migu.Reports.Charts;

/// <summary>
/// ACC per group over its finished seeds: a box (quartiles, median line, whiskers to min and max)
/// with every seed drawn as a dot, since with three seeds the dots say more than the box.
/// </summary>
public static class AccuracyBoxChart
{
    /// <summary>The chart, or null when no group has a finished run with an ACC.</summary>
    public static ChartImage? Build(IReadOnlyList<RunGroup> groups)
    {
        List<(RunGroup Group, double[] Acc)> shown = [.. groups
            .Select(g => (g, g.Finished.Where(r => r.Metrics.Acc.HasValue).Select(r => r.Metrics.Acc!.Value * 100).ToArray()))
            .Where(x => x.Item2.Length > 0)];
        if (shown.Count == 0)
        {
            return null;
        }

        var plot = ChartStyle.NewPlot("ACC over seeds", string.Empty, "ACC (%)");
        IPalette palette = ChartStyle.Palette(shown.Count);
        for (int k = 0; k < shown.Count; k++)
        {
            double[] acc = [.. shown[k].Acc.Order()];
            Color color = palette.GetColor(k);
            var box = plot.Add.Box(new Box
            {
                Position = k,
                Width = 0.5,
                BoxMin = Quantile(acc, 0.25),
                BoxMax = Quantile(acc, 0.75),
                BoxMiddle = Quantile(acc, 0.5),
                WhiskerMin = acc[0],
                WhiskerMax = acc[^1],
            });
            box.FillColor = color.WithAlpha(0.35);
            box.LineColor = color;
            box.LineWidth = 2;

            // Seeds spread evenly across the box so equal values stay visible.
            double[] xs = [.. acc.Select((_, i) => k + (acc.Length == 1 ? 0 : -0.15 + (0.3 * i / (acc.Length - 1))))];
            var dots = plot.Add.Markers(xs, acc, MarkerShape.FilledCircle, 9, color.Darken(0.3));
            dots.MarkerLineColor = Colors.White;
        }

        int width = Math.Max(640, 160 + (130 * shown.Count));
        // The data area is the figure less the y axis and margins.
        double perGroup = (width - 110.0) / shown.Count;
        int slanted = ChartStyle.CategoryTicksBottom(plot, [.. Enumerable.Range(0, shown.Count).Select(k => (double)k)], [.. shown.Select(s => s.Group.Label)], perGroup);
        plot.Axes.SetLimitsX(-0.6, shown.Count - 0.4);
        plot.Axes.AutoScaleY();
        plot.Axes.MarginsY(0.15);
        int height = 540 + slanted;
        return new ChartImage(plot, width, height);
    }

    /// <summary>Linear interpolation between order statistics (the usual "type 7" quantile) of sorted values.</summary>
    internal static double Quantile(double[] sorted, double q)
    {
        double h = (sorted.Length - 1) * q;
        int lo = (int)Math.Floor(h);
        int hi = Math.Min(lo + 1, sorted.Length - 1);
        return sorted[lo] + ((h - lo) * (sorted[hi] - sorted[lo]));
    }
}
