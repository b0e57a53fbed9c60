using System.Text.RegularExpressions;
using Migu.Continual.Analysis;
using Migu.Reports.Charts;
using Migu.Reports.Writing;

namespace Migu.Reports.Tests;

public sealed partial class AnalysisReportTests : IDisposable
{
    private static readonly string[] Three = ["dbpedia", "amazon", "yelp"];
    private readonly string dir = Directory.CreateTempSubdirectory("migu-analysis-report").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [GeneratedRegex(@"!\[[^\]]*\]\(([^)]+)\)")]
    private static partial Regex ImageLink();

    [Theory]
    [InlineData("png")]
    [InlineData("svg")]
    public void Writes_analysis_md_json_and_both_figures_at_their_declared_sizes(string format)
    {
        MagnitudeAnalysis analysis = SampleAnalysis.Make(Three, [0.95, 0.9]);
        var options = new AnalysisReportOptions { OutDirectory = Path.Combine(dir, "out"), Format = ReportImageFormats.Parse(format) };

        AnalysisReportResult result = AnalysisReport.Write(analysis, options);

        string md = File.ReadAllText(result.ReportPath);
        var links = ImageLink().Matches(md).Select(m => m.Groups[1].Value).ToList();
        Assert.Equal([$"figures/magnitude-similarity.{format}", $"figures/magnitude-distribution.{format}"], links);
        Assert.Equal(links.Select(l => Path.GetFullPath(Path.Combine(options.OutDirectory, l))), result.Images);
        using PanelChartImage heatmap = MagnitudeSimilarityChart.Build(analysis);
        using PanelChartImage lines = MagnitudeDistributionChart.Build(analysis);
        if (format == "png")
        {
            Assert.Equal((heatmap.Width, heatmap.Height), PngImage.Size(result.Images[0]));
            Assert.Equal((lines.Width, lines.Height), PngImage.Size(result.Images[1]));
        }
        else
        {
            Assert.All(result.Images, path => Assert.Equal("svg", System.Xml.Linq.XDocument.Load(path).Root!.Name.LocalName));
        }

        Assert.Equal(MagnitudeAnalysisFile.Serialize(analysis), File.ReadAllText(result.JsonPath));
        Assert.Equal(Path.Combine(options.OutDirectory, "analysis.json"), result.JsonPath);
    }

    [Fact]
    public void Analysis_md_states_the_numbers_and_which_model_is_more_distinct()
    {
        MagnitudeAnalysis analysis = SampleAnalysis.Make(Three, [0.95, 0.9]);
        string md = File.ReadAllText(AnalysisReport.Write(analysis, new AnalysisReportOptions { OutDirectory = dir }).ReportPath);

        Assert.Contains("| ft | 0.950 | 0.940 | 0.960 |", md, StringComparison.Ordinal); // all, attention (q), FFN (wi)
        Assert.Contains("| ft+MIGU | 0.900 | 0.890 | 0.910 |", md, StringComparison.Ordinal);
        Assert.Contains("ft+MIGU's magnitude vectors are more distinct across tasks than ft's: mean off-diagonal similarity 0.900 vs 0.950 (Δ -0.050).", md, StringComparison.Ordinal);
        Assert.Contains("| amazon | 0.900 | 1.000 | 0.900 |", md, StringComparison.Ordinal); // ft+MIGU's matrix
        Assert.Contains("`encoder.block.1.layer.1.DenseReluDense.wi`", md, StringComparison.Ordinal);
        Assert.Contains("dbpedia 8, amazon 8, yelp 8 from the test split (seed 42)", md, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData(0.90, 0.95, "less distinct across tasks than")]
    [InlineData(0.95, 0.90, "more distinct across tasks than")]
    [InlineData(0.95, 0.9502, "about as alike across tasks as")]
    public void The_comparison_says_whichever_way_the_numbers_go(double first, double second, string phrase)
    {
        var sentences = AnalysisReport.Comparisons(SampleAnalysis.Make(Three, [first, second]));
        Assert.StartsWith($"ft+MIGU's magnitude vectors are {phrase} ft's", Assert.Single(sentences), StringComparison.Ordinal);
    }

    [Fact]
    public void Kind_groups_average_their_layers_and_are_absent_when_none_was_selected()
    {
        ModelMagnitudes m = SampleAnalysis.Make(Three, [0.8]).Models[0];
        Assert.Equal(0.79, AnalysisReport.GroupMean(m, ["query", "key"])!.Value, 12);
        Assert.Null(AnalysisReport.GroupMean(m, ["value"]));
    }
}
