using System.Globalization;
using Migu.Continual.Analysis;
using ScottPlot;

namespace Migu.Reports.Charts;

/// <summary>
/// The plotted layer's L1-normalised magnitude distribution per task, one line per task, one panel
/// per model; every panel has the same y range, so heights compare across models.
/// </summary>
public static class MagnitudeDistributionChart
{
    /// <summary>Largest / smallest positive share above which <see cref="DistributionScale.Auto"/> draws a log axis.</summary>
    public const double AutoLogRatio = 20;

    private const int PanelWidth = 760;
    private const int Height = 520;

    public static PanelChartImage Build(MagnitudeAnalysis analysis, DistributionOrder order = DistributionOrder.Shared, DistributionScale scale = DistributionScale.Auto)
    {
        var tasks = analysis.Tasks;
        IPalette palette = ChartStyle.Palette(tasks.Count);
        var series = analysis.Models.Select(m => Ordered(m.Distributions, order)).ToList();
        var positive = series.SelectMany(s => s.SelectMany(v => v)).Where(v => v > 0).ToList();
        double smallest = positive.Count == 0 ? 1e-6 : positive.Min();
        double largest = positive.Count == 0 ? 1 : positive.Max();
        bool logY = IsLog(scale, smallest, largest);
        // A zero share has no logarithm; it is drawn a little below the smallest positive one.
        double floor = smallest / 2;
        string xLabel = order == DistributionOrder.Shared
            ? "output unit (ordered by mean share over tasks)"
            : "output unit (each task sorted, largest first)";

        var panels = new List<Plot>();
        for (int k = 0; k < analysis.Models.Count; k++)
        {
            ModelMagnitudes model = analysis.Models[k];
            var plot = ChartStyle.NewPlot($"{model.Label} · {model.DistributionLayer}", xLabel, "share of Σ|y| (L1-normalised)");
            plot.Axes.Title.Label.FontSize = ChartStyle.AxisLabelSize;
            for (int t = 0; t < tasks.Count; t++)
            {
                double[] ys = [.. series[k][t].Select(v => logY ? Math.Log10(Math.Max(v, floor)) : v)];
                double[] xs = [.. Enumerable.Range(1, ys.Length).Select(i => (double)i)];
                var line = plot.Add.ScatterLine(xs, ys, palette.GetColor(t));
                line.LineWidth = tasks.Count > 8 || ys.Length > 256 ? 1f : 1.5f; // many lines or units: thinner, or they merge
                line.LegendText = tasks[t];
            }

            double top = logY ? Math.Log10(largest) : largest;
            double bottom = logY ? Math.Log10(floor) : 0;
            double pad = (top - bottom) * 0.05;
            double low = bottom - (logY ? pad : 0);
            plot.Axes.SetLimits(0, series[k][0].Length + 1, low, top + pad);
            if (logY)
            {
                plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericManual([.. LogTicks(low, top + pad)]);
            }

            plot.ShowLegend(Edge.Right);
            panels.Add(plot);
        }

        int titleWidth = (int)(ChartStyle.CharWidth * 1.2 * analysis.Models.Max(m => m.Label.Length + m.DistributionLayer.Length + 3)) + 200;
        return new PanelChartImage(panels, Math.Max(PanelWidth, titleWidth) * panels.Count, Height);
    }

    /// <summary>Whether the y axis is logarithmic for shares between <paramref name="smallest"/> and <paramref name="largest"/> (both positive).</summary>
    public static bool IsLog(DistributionScale scale, double smallest, double largest) => scale switch
    {
        DistributionScale.Log => true,
        DistributionScale.Linear => false,
        _ => largest / smallest > AutoLogRatio,
    };

    /// <summary>[task][position]: each task's shares in the chosen order.</summary>
    internal static double[][] Ordered(double[][] distributions, DistributionOrder order)
    {
        if (order == DistributionOrder.Sorted)
        {
            return [.. distributions.Select(d => d.OrderByDescending(v => v).ToArray())];
        }

        int units = distributions[0].Length;
        int[] byMean = [.. Enumerable.Range(0, units).OrderByDescending(u => distributions.Average(d => d[u])).ThenBy(u => u)];
        return [.. distributions.Select(d => byMean.Select(u => d[u]).ToArray())];
    }

    /// <summary>
    /// Ticks for an axis that holds log10 of the share: 10ᵏ labelled, 2–9·10ᵏ as minor ticks; over
    /// less than two decades 2·10ᵏ and 5·10ᵏ are labelled too, so the axis never shows a single number.
    /// </summary>
    internal static List<Tick> LogTicks(double low, double high)
    {
        var ticks = new List<Tick>();
        bool narrow = high - low < 2;
        for (int e = (int)Math.Floor(low); e <= (int)Math.Ceiling(high); e++)
        {
            for (int m = 1; m <= 9; m++)
            {
                double position = e + Math.Log10(m);
                if (position < low || position > high)
                {
                    continue;
                }

                if (m == 1 || (narrow && m is 2 or 5))
                {
                    ticks.Add(Tick.Major(position, (m == 1 ? string.Empty : $"{m}·") + PowerOfTen(e)));
                }
                else
                {
                    ticks.Add(Tick.Minor(position));
                }
            }
        }

        return ticks;
    }

    /// <summary>An exponent as 10⁻³.</summary>
    internal static string PowerOfTen(int exponent)
    {
        const string superscripts = "⁰¹²³⁴⁵⁶⁷⁸⁹";
        string digits = Math.Abs(exponent).ToString(CultureInfo.InvariantCulture);
        return "10" + (exponent < 0 ? "⁻" : string.Empty) + string.Concat(digits.Select(c => superscripts[c - '0']));
    }
}
