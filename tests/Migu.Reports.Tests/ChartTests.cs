using Migu.Continual.Recipes;
using Migu.Core;
using Migu.Reports.Analysis;
using Migu.Reports.Charts;
using Migu.Reports.Store;
using ScottPlot;

namespace Migu.Reports.Tests;

public class ChartTests
{
    private static readonly string[] Three = ["dbpedia", "amazon", "yahoo"];

    private static RunRecord Run(string[] tasks, int rows, string method = "ft")
    {
        double[][] matrix = [.. Enumerable.Range(0, rows).Select(i => tasks.Select((_, j) => j <= i ? 0.9 - (0.1 * (i - j)) : 0.1).ToArray())];
        return new RunRecord
        {
            Name = "run",
            Directory = "/runs/run",
            Recipe = new Recipe { Tasks = tasks, Method = method },
            Metrics = RunStoreBuilder.Metrics(tasks, matrix, [.. tasks.Select(_ => 0.05)]),
            Loss = LossLogFile.Parse(RunStoreBuilder.Loss(tasks[..rows], 40), "loss.csv"),
        };
    }

    /// <summary>Renders a chart as PNG and returns the decoded size.</summary>
    private static (int Width, int Height) Rendered(ChartImage chart)
    {
        using (chart)
        {
            byte[] png = chart.Plot.GetImageBytes(chart.Width, chart.Height, ImageFormat.Png);
            using var bitmap = SkiaSharp.SKBitmap.Decode(png);
            Assert.True(PngImage.DarkPixels(png) > 1000, "the chart is (nearly) blank");
            return (bitmap.Width, bitmap.Height);
        }
    }

    [Fact]
    public void The_heatmap_grows_with_the_number_of_tasks()
    {
        string[] fifteen = [.. "mnli cb wic copa qqp boolq rte imdb yelp amazon sst2 dbpedia agnews multirc yahoo".Split(' ')];
        var small = Rendered(AccuracyHeatmapChart.Build(Run(Three, 3)));
        var large = Rendered(AccuracyHeatmapChart.Build(Run(fifteen, 15)));
        Assert.True(large.Width > small.Width + (12 * 60), $"{large} vs {small}");
        Assert.True(large.Height > small.Height + (12 * 40), $"{large} vs {small}");
    }

    [Fact]
    public void Every_chart_renders_at_the_size_it_declares()
    {
        var run = Run(Three, 3);
        var partial = Run(Three, 1);
        var group = RunGrouping.Group([run]).Groups[0];
        var sweep = new ThresholdSweep { Label = "ft+MIGU", Points = [new SweepPoint(0.5, group), new SweepPoint(0.7, group)], Baseline = group };
        ChartImage[] charts =
        [
            AccuracyHeatmapChart.Build(run),
            AccuracyHeatmapChart.Build(partial),
            TaskCurvesChart.Build(run)!,
            TaskCurvesChart.Build(partial)!,
            LossCurveChart.Build(run)!,
            AccuracyBoxChart.Build([group])!,
            ThresholdSweepChart.Build(sweep),
        ];
        foreach (var chart in charts)
        {
            var declared = (chart.Width, chart.Height);
            Assert.Equal(declared, Rendered(chart));
        }
    }

    [Fact]
    public void Charts_that_have_nothing_to_show_are_left_out()
    {
        var joint = Run(Three, 1, "mtl");
        Assert.Null(TaskCurvesChart.Build(joint));
        Assert.Null(LossCurveChart.Build(joint with { Loss = null }));
        var unfinished = RunGrouping.Group([Run(Three, 2)]).Groups;
        Assert.Null(AccuracyBoxChart.Build(unfinished));
    }

    [Fact]
    public void Cell_text_is_black_on_light_cells_and_white_on_dark_ones()
    {
        var viridis = new ScottPlot.Colormaps.Viridis();
        Assert.True(AccuracyHeatmapChart.IsLight(viridis.GetColor(0.95)));
        Assert.False(AccuracyHeatmapChart.IsLight(viridis.GetColor(0.1)));
    }

    [Fact]
    public void Box_quartiles_interpolate_between_order_statistics()
    {
        double[] sorted = [70, 74, 78, 90];
        Assert.Equal(73, AccuracyBoxChart.Quantile(sorted, 0.25), 12);
        Assert.Equal(76, AccuracyBoxChart.Quantile(sorted, 0.5), 12);
        Assert.Equal(81, AccuracyBoxChart.Quantile(sorted, 0.75), 12);
        Assert.Equal(70, AccuracyBoxChart.Quantile([70], 0.75), 12);
    }

    [Fact]
    public void The_moving_average_covers_the_values_so_far_up_to_the_window()
    {
        Assert.Equal([1, 2, 4, 6], LossCurveChart.MovingAverage([1, 3, 5, 7], 2));
        Assert.Equal([4, 4, 4], LossCurveChart.MovingAverage([4, 4, 4], 10));
    }

    [Fact]
    public void Migu_options_are_what_the_chart_labels_come_from()
    {
        Assert.Equal("lora+MIGU (update, quantile, layers=attention)", RecipeLabel.Of(new Recipe
        {
            Method = "lora",
            Migu = new MiguOptions { Mode = MiguMode.Update, Rule = ThresholdRule.Quantile, Layers = "attention" },
        }));
        Assert.Equal("random", RecipeLabel.Of(new Recipe { Method = "random", Migu = new MiguOptions { Source = MaskSource.Random } }));
        Assert.Equal("lora-replay+MIGU", RecipeLabel.Of(new Recipe { Method = "replay", Replay = new ReplaySettings { Base = "lora" }, Migu = new MiguOptions() }));
    }
}
