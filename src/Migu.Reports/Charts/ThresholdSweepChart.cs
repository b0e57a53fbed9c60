using Migu.Reports.Analysis;
using Migu.Reports.Writing;
using ScottPlot;

namespace Migu.Reports.Charts;

/// <summary>
/// ACC against MIGU's threshold T (mean ± sample std over seeds), with MIGU off drawn at T = 0
/// and as a dashed reference line across the chart.
/// </summary>
public static class ThresholdSweepChart
{
    public static ChartImage Build(ThresholdSweep sweep)
    {
        var plot = ChartStyle.NewPlot($"ACC vs MIGU threshold · {sweep.Label}", "threshold T (fraction of output rows masked)", "ACC (%)");
        IPalette palette = ChartStyle.Palette(2);
        var ticks = new SortedDictionary<double, string>();

        List<SweepPoint> points = [.. sweep.Points.Where(p => p.Group.Acc.Count > 0)];
        double[] xs = [.. points.Select(p => p.Threshold)];
        double[] ys = [.. points.Select(p => p.Group.Acc.Mean * 100)];
        double[] errors = [.. points.Select(p => (p.Group.Acc.Std ?? 0) * 100)];
        if (points.Count > 0)
        {
            var bars = plot.Add.ErrorBar(xs, ys, errors);
            bars.Color = palette.GetColor(0);
            bars.LineWidth = 2;
            var line = plot.Add.Scatter(xs, ys, palette.GetColor(0));
            line.LineWidth = 2.5f;
            line.MarkerSize = 10;
            line.LegendText = sweep.Label;
        }

        foreach (double t in xs)
        {
            ticks[t] = Numbers.Threshold(t);
        }

        if (sweep.Baseline is { Acc.Count: > 0 } off)
        {
            Color grey = Colors.DimGray;
            double mean = off.Acc.Mean * 100;
            var reference = plot.Add.HorizontalLine(mean, 1.5f, grey, LinePattern.Dashed);
            reference.LegendText = "MIGU off (T = 0)";
            var err = plot.Add.ErrorBar([0.0], [mean], [(off.Acc.Std ?? 0) * 100]);
            err.Color = grey;
            err.LineWidth = 2;
            plot.Add.Marker(0, mean, MarkerShape.FilledSquare, 12, grey);
            ticks[0] = "0 (off)";
        }

        plot.Axes.Bottom.SetTicks([.. ticks.Keys], [.. ticks.Values]);
        // Margins re-run the autoscaler, so the fixed x range (all of T's [0, 1)) comes after them.
        plot.Axes.MarginsY(0.2);
        plot.Axes.SetLimitsX(-0.05, 1.02);
        plot.ShowLegend(Edge.Bottom);
        return new ChartImage(plot, 820, 600);
    }
}
