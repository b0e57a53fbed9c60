using System.Xml.Linq;
using Migu.Reports.Charts;

namespace Migu.Reports.Tests;

public class MagnitudeChartTests
{
    private static readonly string[] Four = ["dbpedia", "amazon", "yelp", "agnews"];

    /// <summary>Renders the chart as PNG, checks it is not blank and returns the decoded size.</summary>
    private static (int Width, int Height) Rendered(PanelChartImage chart)
    {
        using (chart)
        {
            byte[] png = chart.Png();
            Assert.True(PngImage.DarkPixels(png) > 1000, "the chart is (nearly) blank");
            using var bitmap = SkiaSharp.SKBitmap.Decode(png);
            return (bitmap.Width, bitmap.Height);
        }
    }

    [Theory]
    [InlineData(1)]
    [InlineData(2)]
    [InlineData(3)]
    public void Both_charts_render_at_the_size_they_declare_with_a_panel_per_model(int models)
    {
        var analysis = SampleAnalysis.Make(Four, [.. Enumerable.Range(0, models).Select(k => 0.9 + (0.02 * k))]);
        PanelChartImage[] charts =
        [
            MagnitudeSimilarityChart.Build(analysis),
            MagnitudeDistributionChart.Build(analysis),
            MagnitudeDistributionChart.Build(analysis, DistributionOrder.Sorted, DistributionScale.Log),
        ];
        foreach (PanelChartImage chart in charts)
        {
            Assert.Equal(models, chart.Panels.Count);
            Assert.Equal((chart.Width, chart.Height), Rendered(chart));
        }
    }

    [Fact]
    public void Heatmap_panels_grow_with_the_number_of_tasks()
    {
        string[] fifteen = [.. "mnli cb wic copa qqp boolq rte imdb yelp amazon sst2 dbpedia agnews multirc yahoo".Split(' ')];
        var small = Rendered(MagnitudeSimilarityChart.Build(SampleAnalysis.Make(Four, [0.9, 0.95])));
        var large = Rendered(MagnitudeSimilarityChart.Build(SampleAnalysis.Make(fifteen, [0.9, 0.95])));
        Assert.True(large.Width > small.Width + (2 * 11 * 60), $"{large} vs {small}");
        Assert.True(large.Height > small.Height + (11 * 60), $"{large} vs {small}");
    }

    [Fact]
    public void Svg_output_is_an_svg_document_with_the_labels_in_it()
    {
        using PanelChartImage chart = MagnitudeSimilarityChart.Build(SampleAnalysis.Make(Four, [0.9, 0.95]));
        XDocument svg = XDocument.Parse(chart.Svg());
        Assert.Equal("svg", svg.Root!.Name.LocalName);
        Assert.Equal(chart.Width.ToString(System.Globalization.CultureInfo.InvariantCulture), svg.Root.Attribute("width")!.Value);
        string text = svg.ToString();
        Assert.Contains("ft+MIGU · mean off-diagonal 0.950", text, StringComparison.Ordinal);
        Assert.Contains("agnews", text, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_panel_shares_one_colour_range_from_the_lowest_similarity_to_one()
    {
        Assert.Equal((0.93, 1.0), MagnitudeSimilarityChart.ColourRange([SampleAnalysis.Matrix(3, 0.9871), SampleAnalysis.Matrix(3, 0.9348)]));
        Assert.Equal((0.99, 1.0), MagnitudeSimilarityChart.ColourRange([SampleAnalysis.Matrix(2, 1.0)]));
        Assert.Equal((0.5, 1.0), MagnitudeSimilarityChart.ColourRange([[[1, double.NaN], [0.5, 1]]]));
    }

    [Fact]
    public void Units_are_laid_out_by_their_mean_share_or_sorted_per_task()
    {
        double[][] d = [[0.1, 0.6, 0.3], [0.5, 0.2, 0.3]]; // means 0.3, 0.4, 0.3: unit 1, then 0 and 2 (tie to the lower index)
        Assert.Equal([[0.6, 0.1, 0.3], [0.2, 0.5, 0.3]], MagnitudeDistributionChart.Ordered(d, DistributionOrder.Shared));
        Assert.Equal([[0.6, 0.3, 0.1], [0.5, 0.3, 0.2]], MagnitudeDistributionChart.Ordered(d, DistributionOrder.Sorted));
    }

    [Fact]
    public void The_y_axis_is_logarithmic_only_when_the_shares_span_decades_unless_told()
    {
        Assert.False(MagnitudeDistributionChart.IsLog(DistributionScale.Auto, 0.01, 0.05));
        Assert.True(MagnitudeDistributionChart.IsLog(DistributionScale.Auto, 0.0001, 0.05));
        Assert.True(MagnitudeDistributionChart.IsLog(DistributionScale.Log, 0.01, 0.05));
        Assert.False(MagnitudeDistributionChart.IsLog(DistributionScale.Linear, 0.0001, 0.05));
    }

    [Fact]
    public void Log_ticks_label_powers_of_ten_and_more_on_a_short_axis()
    {
        Assert.Equal("10⁻³", MagnitudeDistributionChart.PowerOfTen(-3));
        Assert.Equal("10¹²", MagnitudeDistributionChart.PowerOfTen(12));

        var wide = MagnitudeDistributionChart.LogTicks(-4.2, -0.9).Where(t => t.IsMajor).Select(t => t.Label);
        Assert.Equal(["10⁻⁴", "10⁻³", "10⁻²", "10⁻¹"], wide);
        var narrow = MagnitudeDistributionChart.LogTicks(-2.5, -1.9).Where(t => t.IsMajor).Select(t => t.Label);
        Assert.Equal(["5·10⁻³", "10⁻²"], narrow);
        // 4, 6, 7, 8 and 9·10⁻³ as minor ticks; 3·10⁻³ lies below the axis and 2·10⁻² above it.
        Assert.Equal(5, MagnitudeDistributionChart.LogTicks(-2.5, -1.9).Count(t => !t.IsMajor));
    }
}
