using Migu.Continual.Analysis;
using Migu.Reports.Writing;
using ScottPlot;

namespace Migu.Reports.Charts;

/// <summary>
/// Task × task cosine similarity of magnitude vectors (averaged over the selected layers), one
/// heatmap per model side by side, all on one colour scale so the panels compare cell for cell.
/// Each cell carries its value; each panel's title its mean off-diagonal similarity.
/// </summary>
public static class MagnitudeSimilarityChart
{
    private const int CellSize = 64;

    public static PanelChartImage Build(MagnitudeAnalysis analysis)
    {
        var tasks = analysis.Tasks;
        int t = tasks.Count;
        var (low, high) = ColourRange(analysis.Models.Select(m => m.Similarity));
        var colormap = new ScottPlot.Colormaps.Viridis();

        var panels = new List<Plot>();
        int slanted = 0;
        foreach (ModelMagnitudes model in analysis.Models)
        {
            // Both axes are the tasks, named by the ticks; axis titles would only crowd the panels.
            var plot = ChartStyle.NewPlot($"{model.Label} · mean off-diagonal {Numbers.Similarity(model.MeanOffDiagonal)}", string.Empty, string.Empty);
            // Row 0 (the first task) on top: ScottPlot's heatmap draws row 0 at the top by default.
            var heatmap = plot.Add.Heatmap(ToGrid(model.Similarity));
            heatmap.Colormap = colormap;
            heatmap.ManualRange = new ScottPlot.Range(low, high);
            var bar = plot.Add.ColorBar(heatmap);
            bar.Label = "cosine similarity";
            bar.LabelStyle.FontSize = ChartStyle.AxisLabelSize;
            bar.Axis.TickLabelStyle.FontSize = ChartStyle.TickLabelSize;
            bar.Axis.TickGenerator = new ScottPlot.TickGenerators.NumericAutomatic { LabelFormatter = Numbers.Similarity };
            bar.MinimumSize = 125; // ScottPlot's own measure leaves the rotated label touching the edge

            for (int i = 0; i < t; i++)
            {
                for (int j = 0; j < t; j++)
                {
                    double v = model.Similarity[i][j];
                    var text = plot.Add.Text(Numbers.Similarity(v), j, t - 1 - i);
                    text.LabelFontSize = ChartStyle.CellTextSize;
                    text.LabelAlignment = Alignment.MiddleCenter;
                    double position = high > low ? Math.Clamp((v - low) / (high - low), 0, 1) : 1;
                    text.LabelFontColor = double.IsNaN(v) || AccuracyHeatmapChart.IsLight(colormap.GetColor(position)) ? Colors.Black : Colors.White;
                }
            }

            double[] positions = [.. Enumerable.Range(0, t).Select(j => (double)j)];
            slanted = Math.Max(slanted, ChartStyle.CategoryTicksBottom(plot, positions, tasks, CellSize));
            ChartStyle.CategoryTicksLeft(plot, [.. tasks.Reverse()]);
            plot.Axes.SetLimits(-0.5, t - 0.5, -0.5, t - 0.5);
            plot.HideGrid();
            panels.Add(plot);
        }

        int leftRoom = 80 + (int)(ChartStyle.CharWidth * tasks.Max(n => n.Length));
        int titleRoom = (int)(ChartStyle.CharWidth * 1.25 * analysis.Models.Max(m => m.Label.Length + 28));
        int panelWidth = Math.Max(Math.Max(480, titleRoom), leftRoom + (CellSize * t) + 230);
        int height = Math.Max(400, 130 + (CellSize * t) + slanted);
        return new PanelChartImage(panels, panelWidth * panels.Count, height);
    }

    /// <summary>
    /// One scale for every panel: from the lowest similarity in any of them, rounded down to a
    /// hundredth, to 1 (cosine of non-negative magnitudes is at most 1; the diagonal is 1).
    /// </summary>
    internal static (double Low, double High) ColourRange(IEnumerable<double[][]> matrices)
    {
        var values = matrices.SelectMany(m => m.SelectMany(r => r)).Where(v => !double.IsNaN(v)).ToList();
        double min = values.Count == 0 ? 0 : values.Min();
        double low = Math.Floor(min * 100) / 100;
        return (Math.Min(low, 0.99), 1);
    }

    private static double[,] ToGrid(double[][] m)
    {
        var grid = new double[m.Length, m.Length];
        for (int i = 0; i < m.Length; i++)
        {
            for (int j = 0; j < m.Length; j++)
            {
                grid[i, j] = m[i][j];
            }
        }

        return grid;
    }
}
