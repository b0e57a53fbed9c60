using Migu.Reports.Store;
using ScottPlot;

namespace Migu.Reports.Charts;

/// <summary>
/// Each task's accuracy over the sequence, one line per task: solid from the step at which the
/// task is trained, so a falling line is forgetting; dotted before it, from the untrained model's
/// baseline, when the run scored one.
/// </summary>
public static class TaskCurvesChart
{
    /// <summary>The chart, or null for the multi-task bound (a single point per task, no sequence).</summary>
    public static ChartImage? Build(RunRecord run)
    {
        if (run.IsMultiTask)
        {
            return null;
        }

        var tasks = run.Metrics.Tasks;
        var rows = run.Metrics.AccuracyMatrix;
        var baseline = run.Metrics.BaselineAccuracy;
        int r = rows.Count;
        var plot = ChartStyle.NewPlot($"Per-task accuracy · {run.Name}", "after training task", "accuracy (%)");
        IPalette palette = ChartStyle.Palette(tasks.Count);

        for (int j = 0; j < tasks.Count; j++)
        {
            Color color = palette.GetColor(j);
            bool labelled = false;
            if (baseline is not null)
            {
                // x = 0 is the untrained model, x = i + 1 is after task i; the prefix ends where the task is trained.
                var xs = new List<double> { 0 };
                var ys = new List<double> { baseline[j] * 100 };
                for (int i = 0; i < Math.Min(j + 1, r); i++)
                {
                    xs.Add(i + 1);
                    ys.Add(rows[i][j] * 100);
                }

                // Fainter than the trained part: with many tasks these pile up near chance level.
                var before = plot.Add.ScatterLine(xs.ToArray(), ys.ToArray(), color.WithAlpha(0.7));
                before.LinePattern = LinePattern.Dotted;
                before.LineWidth = 1.5f;
                before.MarkerSize = 0;
                if (j >= r)
                {
                    before.LegendText = tasks[j];
                    labelled = true;
                }
            }

            if (j < r)
            {
                double[] xs = [.. Enumerable.Range(j, r - j).Select(i => (double)(i + 1))];
                double[] ys = [.. Enumerable.Range(j, r - j).Select(i => rows[i][j] * 100)];
                var trained = plot.Add.Scatter(xs, ys, color);
                trained.LineWidth = 2.5f;
                trained.MarkerSize = 8;
                trained.MarkerShape = MarkerShape.FilledCircle;
                if (!labelled)
                {
                    trained.LegendText = tasks[j];
                }
            }
        }

        var xNames = new List<string>();
        if (baseline is not null)
        {
            xNames.Add("(untrained)");
        }

        xNames.AddRange(tasks.Take(r));
        double first = baseline is null ? 1 : 0;
        double[] positions = [.. Enumerable.Range(0, xNames.Count).Select(k => first + k)];
        int width = 860 + (tasks.Count > 8 ? 120 : 0);
        // The data area is the figure less the y axis and the legend on the right.
        double perCategory = (width - 300.0) / xNames.Count;
        int slanted = ChartStyle.CategoryTicksBottom(plot, positions, xNames, perCategory);
        ChartStyle.PercentTicksLeft(plot);
        plot.Axes.SetLimits(first - 0.3, r + 0.3, -3, 103);
        plot.ShowLegend(Edge.Right);
        plot.Legend.FontSize = ChartStyle.LegendSize;
        int height = 560 + slanted;
        return new ChartImage(plot, width, height);
    }
}
