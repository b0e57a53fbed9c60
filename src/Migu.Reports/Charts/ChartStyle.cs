using ScottPlot;

namespace Migu.Reports.Charts;

/// <summary>The look every report chart shares: fonts large enough to read in a paper, white background, one palette.</summary>
internal static class ChartStyle
{
    public const float TitleSize = 20;
    public const float AxisLabelSize = 16;
    public const float TickLabelSize = 14;
    public const float LegendSize = 14;
    public const float CellTextSize = 14;

    /// <summary>A new plot with the report's fonts installed and sizes set.</summary>
    public static Plot NewPlot(string title, string xLabel, string yLabel)
    {
        ReportFonts.EnsureInstalled();
        var plot = new Plot();
        plot.FigureBackground.Color = Colors.White;
        plot.DataBackground.Color = Colors.White;
        plot.Title(title, TitleSize);
        plot.XLabel(xLabel, AxisLabelSize);
        plot.YLabel(yLabel, AxisLabelSize);
        plot.Axes.Bottom.TickLabelStyle.FontSize = TickLabelSize;
        plot.Axes.Left.TickLabelStyle.FontSize = TickLabelSize;
        plot.Legend.FontSize = LegendSize;
        plot.Grid.MajorLineColor = Colors.Black.WithOpacity(0.1);
        return plot;
    }

    /// <summary>Distinct colours for <paramref name="count"/> series (10, or 20 when there are more).</summary>
    public static IPalette Palette(int count) =>
        count <= 10 ? new ScottPlot.Palettes.Category10() : new ScottPlot.Palettes.Category20();

    /// <summary>Rough width of one character of tick-label text, in pixels (DejaVu Sans at <see cref="TickLabelSize"/>).</summary>
    public const double CharWidth = TickLabelSize * 0.58;

    /// <summary>
    /// Names categories at <paramref name="positions"/> on the bottom axis. When the names do not fit
    /// side by side in <paramref name="pixelsPerCategory"/>, they are slanted to end at their tick
    /// (as matplotlib's rotation=45, ha="right") and the axis is made tall enough for them.
    /// Returns the extra height the figure needs for slanted names (0 when level).
    /// </summary>
    public static int CategoryTicksBottom(Plot plot, IReadOnlyList<double> positions, IReadOnlyList<string> names, double pixelsPerCategory)
    {
        var axis = plot.Axes.Bottom;
        axis.SetTicks([.. positions], [.. names]);
        axis.MinorTickStyle.Length = 0;
        double widest = names.Count == 0 ? 0 : names.Max(n => n.Length) * CharWidth;
        if (widest + 12 <= pixelsPerCategory)
        {
            return 0;
        }

        axis.TickLabelStyle.Rotation = -45;
        axis.TickLabelStyle.Alignment = Alignment.MiddleRight;
        // ScottPlot sizes the axis by the level text; a slanted label needs about widest·sin 45°.
        int slanted = (int)Math.Ceiling(widest * 0.71) + 8;
        bool hasLabel = !string.IsNullOrEmpty(axis.Label.Text);
        axis.MinimumSize = slanted + (hasLabel ? 36 : 10);
        return slanted;
    }

    /// <summary>Names categories at 0, 1, … on the left axis (level text; the axis widens to fit).</summary>
    public static void CategoryTicksLeft(Plot plot, IReadOnlyList<string> names)
    {
        var axis = plot.Axes.Left;
        axis.SetTicks([.. Enumerable.Range(0, names.Count).Select(i => (double)i)], [.. names]);
        axis.MinorTickStyle.Length = 0;
    }

    /// <summary>Percent axis ticks every 10 (0–100 needs no more).</summary>
    public static void PercentTicksLeft(Plot plot) =>
        plot.Axes.Left.TickGenerator = new ScottPlot.TickGenerators.NumericFixedInterval(10);
}
