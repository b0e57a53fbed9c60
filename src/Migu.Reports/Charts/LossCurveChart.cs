using Migu.Reports.Store;
using ScottPlot;

namespace Migu.Reports.Charts;

/// <summary>
/// Training loss against the global step of one run: every step faintly, a moving average on top,
/// and a dashed line with the task's name where each task starts.
/// </summary>
public static class LossCurveChart
{
    /// <summary>The chart, or null when the run has no loss.csv or no finite loss.</summary>
    public static ChartImage? Build(RunRecord run)
    {
        List<LossPoint> points = [.. (run.Loss ?? []).Where(p => double.IsFinite(p.Loss))];
        if (points.Count == 0)
        {
            return null;
        }

        var plot = ChartStyle.NewPlot($"Training loss · {run.Name}", "optimizer step (counted across tasks)", "training loss");
        Color color = ChartStyle.Palette(1).GetColor(0);
        double[] steps = [.. points.Select(p => (double)p.Step)];
        double[] loss = [.. points.Select(p => p.Loss)];

        int window = Math.Max(1, points.Count / 50);
        // With few steps there is no average to draw, and the steps themselves are the line.
        var raw = plot.Add.ScatterLine(steps, loss, window > 1 ? color.WithAlpha(0.3) : color);
        raw.LineWidth = window > 1 ? 1 : 2;
        raw.LegendText = "per step";
        if (window > 1)
        {
            // Averaged within each task: a window reaching back into the previous task would lag behind the jump at a task's start.
            bool first = true;
            foreach (var task in points.GroupBy(p => p.TaskIndex))
            {
                double[] x = [.. task.Select(p => (double)p.Step)];
                var smooth = plot.Add.ScatterLine(x, MovingAverage([.. task.Select(p => p.Loss)], window), color);
                smooth.LineWidth = 2.5f;
                if (first)
                {
                    smooth.LegendText = $"moving average over {window} steps";
                    first = false;
                }
            }
        }

        double top = loss.Max() * 1.12;
        double bottom = Math.Min(0, loss.Min());
        foreach (var start in points.GroupBy(p => p.TaskIndex).Select(g => g.First()).OrderBy(p => p.Step))
        {
            if (start.Step > points[0].Step)
            {
                plot.Add.VerticalLine(start.Step, 1.5f, Colors.DimGray, LinePattern.Dashed);
            }

            var name = plot.Add.Text(start.Task, start.Step, top);
            name.LabelFontSize = ChartStyle.TickLabelSize;
            name.LabelAlignment = Alignment.UpperLeft;
            name.LabelFontColor = Colors.DimGray;
            name.OffsetX = 4;
            name.OffsetY = 4;
        }

        plot.Axes.SetLimits(steps[0], steps[^1], bottom, top);
        plot.ShowLegend(Edge.Bottom);
        return new ChartImage(plot, 900, 540);
    }

    /// <summary>Mean of each value with the up to <paramref name="window"/> − 1 values before it.</summary>
    internal static double[] MovingAverage(double[] values, int window)
    {
        double[] result = new double[values.Length];
        double sum = 0;
        for (int i = 0; i < values.Length; i++)
        {
            sum += values[i];
            if (i >= window)
            {
                sum -= values[i - window];
            }

            result[i] = sum / Math.Min(i + 1, window);
        }

        return result;
    }
}
