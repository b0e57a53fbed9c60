using Migu.Reports.Store;
using Migu.Reports.Writing;
using ScottPlot;

namespace Migu.Reports.Charts;

/// <summary>
/// The accuracy matrix of one run as a heatmap: row i = after training task i, column j = scored
/// on task j, each cell's value written in it. One fixed 0–100 % colour scale, so runs compare.
/// </summary>
public static class AccuracyHeatmapChart
{
    private const int CellWidth = 78;
    private const int CellHeight = 52;

    public static ChartImage Build(RunRecord run)
    {
        var tasks = run.Metrics.Tasks;
        var rows = run.Metrics.AccuracyMatrix;
        int t = tasks.Count;
        int r = rows.Count;

        var plot = ChartStyle.NewPlot($"Accuracy matrix (%) · {run.Name}", "evaluated on task", run.IsMultiTask ? string.Empty : "after training task");
        double[,] percent = new double[r, t];
        for (int i = 0; i < r; i++)
        {
            for (int j = 0; j < t; j++)
            {
                percent[i, j] = rows[i][j] * 100;
            }
        }

        var heatmap = plot.Add.Heatmap(percent);
        heatmap.Colormap = new ScottPlot.Colormaps.Viridis();
        heatmap.ManualRange = new ScottPlot.Range(0, 100);
        // ScottPlot's default layout: unit cells centred on integers, row 0 (after the first task) on top,
        // so cell (i, j) is centred at (j, r-1-i). (Setting an extent breaks single-row matrices.)
        var colorBar = plot.Add.ColorBar(heatmap);
        colorBar.Label = "accuracy (%)";
        colorBar.LabelStyle.FontSize = ChartStyle.AxisLabelSize;
        colorBar.Axis.TickLabelStyle.FontSize = ChartStyle.TickLabelSize;

        for (int i = 0; i < r; i++)
        {
            for (int j = 0; j < t; j++)
            {
                var text = plot.Add.Text(Numbers.Percent(rows[i][j]), j, r - 1 - i);
                text.LabelFontSize = ChartStyle.CellTextSize;
                text.LabelAlignment = Alignment.MiddleCenter;
                text.LabelBold = i == j && !run.IsMultiTask;
                text.LabelFontColor = IsLight(heatmap.Colormap.GetColor(rows[i][j])) ? Colors.Black : Colors.White;
            }
        }

        int slanted = ChartStyle.CategoryTicksBottom(plot, [.. Enumerable.Range(0, t).Select(j => (double)j)], tasks, CellWidth);
        List<string> rowNames = run.IsMultiTask ? ["after joint training"] : [.. tasks.Take(r).Reverse()];
        ChartStyle.CategoryTicksLeft(plot, rowNames);
        plot.Axes.SetLimits(-0.5, t - 0.5, -0.5, r - 0.5);
        plot.HideGrid();

        int leftRoom = 70 + (int)(ChartStyle.CharWidth * rowNames.Max(n => n.Length));
        int width = Math.Max(560, leftRoom + (CellWidth * t) + 170);
        int height = Math.Max(360, 150 + (CellHeight * r) + slanted);
        return new ChartImage(plot, width, height);
    }

    /// <summary>Whether black text reads better than white on <paramref name="c"/> (Rec. 709 luma).</summary>
    internal static bool IsLight(Color c) => ((0.2126 * c.R) + (0.7152 * c.G) + (0.0722 * c.B)) / 255 > 0.5;
}
