using System.Text.RegularExpressions;
using Migu.Continual.Recipes;
using Migu.Core;
using Migu.Reports.Charts;
using Migu.Reports.Store;
using Migu.Reports.Writing;

namespace Migu.Reports.Tests;

public sealed partial class ReportGeneratorTests : IDisposable
{
    private readonly RunStoreBuilder _store = new();

    public void Dispose() => _store.Dispose();

    private string Out(string name) => Path.Combine(_store.Root, name);

    [GeneratedRegex(@"!\[[^\]]*\]\(([^)]+)\)")]
    private static partial Regex ImageLink();

    private static List<string> Links(string markdown) => [.. ImageLink().Matches(markdown).Select(m => m.Groups[1].Value)];

    [Fact]
    public void Writes_report_md_and_every_figure_it_links_as_a_decodable_image()
    {
        var dirs = SampleStudy.Write(_store);
        var result = ReportGenerator.Write(dirs, new ReportOptions { OutDirectory = Out("report") });

        string md = File.ReadAllText(result.ReportPath);
        List<string> links = Links(md);
        // Box plot, sweep, then per run of 9: an accuracy matrix, per-task curves (not for the multi-task
        // bound) and a loss chart (not for the bound, which has no loss.csv).
        Assert.Equal(2 + 9 + 8 + 8, links.Count);
        Assert.Equal(links.Count, links.Distinct().Count());
        Assert.Equal(links.Select(l => Path.GetFullPath(Path.Combine(Out("report"), l))), result.Images);
        Assert.Equal(links.Count, Directory.GetFiles(Out("report/figures")).Length);
        foreach (string link in links)
        {
            Assert.StartsWith("figures/", link, StringComparison.Ordinal);
            Assert.EndsWith(".png", link, StringComparison.Ordinal);
            var (w, h) = PngImage.Size(Path.Combine(Out("report"), link));
            Assert.InRange(w, 500, 2000);
            Assert.InRange(h, 300, 1500);
        }

        Assert.Equal((900, 540), PngImage.Size(Out("report/figures/loss-ft-s1.png")));
        Assert.Equal((820, 600), PngImage.Size(Out("report/figures/sweep-ft-migu.png")));
        var run = RunReader.Load(dirs[0]);
        using var heatmap = AccuracyHeatmapChart.Build(run);
        Assert.Equal((heatmap.Width, heatmap.Height), PngImage.Size(Out("report/figures/accuracy-ft-s1.png")));
    }

    [Fact]
    public void The_comparison_table_holds_mean_and_sample_std_over_seeds()
    {
        var result = ReportGenerator.Write(SampleStudy.Write(_store), new ReportOptions { OutDirectory = Out("report") });
        string md = File.ReadAllText(result.ReportPath);

        // ft: ACC 0.600 and 0.667 → 63.3 ± 4.7 (sample std |0.0667|/√2); BWT −0.45 and −0.35 → −40.0 ± 7.1;
        // FWT (0.2 − 0.1 + 0.1 − 0) / 2 = 0.1 for both seeds; forgetting = −BWT here.
        Assert.Contains("| ft | 2 | 63.3 ± 4.7 | -40.0 ± 7.1 | 10.0 ± 0.0 | 40.0 ± 7.1 |", md, StringComparison.Ordinal);
        // ft+MIGU at T = 0.7: ACC 0.70, 0.74, 0.78 → 74.0 ± 4.0; BWT −0.25, −0.21, −0.17 → −21.0 ± 4.0.
        Assert.Contains("| ft+MIGU (T=0.7) | 3 | 74.0 ± 4.0 | -21.0 ± 4.0 | 10.0 ± 0.0 | 21.0 ± 4.0 |", md, StringComparison.Ordinal);
        Assert.Contains("| ft+MIGU (T=0.5) | 1 | 70.0 | -30.0 | 10.0 | 30.0 |", md, StringComparison.Ordinal);
        Assert.Contains("| lora+MIGU (update) | 1 (+1 running) | 78.3 | -7.5 | 10.0 | 7.5 |", md, StringComparison.Ordinal);
        Assert.Contains("| mtl | 1 | 90.0 | – | – | – |", md, StringComparison.Ordinal);
    }

    [Fact]
    public void A_sweep_appears_only_when_runs_differ_only_in_T()
    {
        var dirs = SampleStudy.Write(_store);
        string withSweep = File.ReadAllText(ReportGenerator.Write(dirs, new ReportOptions { OutDirectory = Out("all") }).ReportPath);
        Assert.Contains("## Threshold sweep", withSweep, StringComparison.Ordinal);
        Assert.Contains("| 0 (MIGU off) | 2 | 63.3 ± 4.7 |", withSweep, StringComparison.Ordinal);
        Assert.Contains("| 0.5 | 1 | 70.0 |", withSweep, StringComparison.Ordinal);
        Assert.Contains("| 0.7 | 3 | 74.0 ± 4.0 |", withSweep, StringComparison.Ordinal);

        // Without the T = 0.5 run, ft vs ft+MIGU (and lora+MIGU) differ in more than T or in one T only.
        List<string> noSweepDirs = [.. dirs.Where(d => !d.Contains("t0.5", StringComparison.Ordinal))];
        var result = ReportGenerator.Write(noSweepDirs, new ReportOptions { OutDirectory = Out("no-sweep") });
        Assert.DoesNotContain("Threshold sweep", File.ReadAllText(result.ReportPath), StringComparison.Ordinal);
        Assert.Empty(result.Sweeps);
        Assert.Empty(Directory.GetFiles(Out("no-sweep/figures"), "sweep-*"));
    }

    [Fact]
    public void Runs_with_different_task_lists_are_compared_with_a_warning_and_plotted_separately()
    {
        string[] other = ["yahoo", "dbpedia"];
        string a = _store.AddRun("order-a", new Recipe { Tasks = SampleStudy.Tasks }, RunStoreBuilder.Metrics(SampleStudy.Tasks, [[0.9, 0.1, 0.1], [0.7, 0.9, 0.1], [0.5, 0.7, 0.9]]), loss: null);
        string b = _store.AddRun("order-b", new Recipe { Tasks = other }, RunStoreBuilder.Metrics(other, [[0.9, 0.1], [0.6, 0.9]]), loss: null);
        var result = ReportGenerator.Write([a, b], new ReportOptions { OutDirectory = Out("mixed") });
        string md = File.ReadAllText(result.ReportPath);
        Assert.Contains("not directly comparable", md, StringComparison.Ordinal);
        Assert.Contains("| A | dbpedia → amazon → yahoo |", md, StringComparison.Ordinal);
        Assert.Contains("| B | yahoo → dbpedia |", md, StringComparison.Ordinal);
        Assert.Contains("| ft (tasks=A) | A | 1 | 70.0 |", md, StringComparison.Ordinal);
        Assert.Contains("| ft (tasks=B) | B | 1 | 75.0 |", md, StringComparison.Ordinal);
        Assert.Contains("This run has no loss.csv.", md, StringComparison.Ordinal);
        Assert.True(File.Exists(Out("mixed/figures/accuracy-order-a.png")));
        Assert.True(File.Exists(Out("mixed/figures/accuracy-order-b.png")));
    }

    [Fact]
    public void The_report_does_not_depend_on_the_order_of_the_runs()
    {
        var dirs = SampleStudy.Write(_store);
        string forward = File.ReadAllText(ReportGenerator.Write(dirs, new ReportOptions { OutDirectory = Out("f") }).ReportPath);
        dirs.Reverse();
        string backward = File.ReadAllText(ReportGenerator.Write(dirs, new ReportOptions { OutDirectory = Out("b") }).ReportPath);
        Assert.Equal(forward, backward);
    }

    [Fact]
    public void Svg_figures_are_svg_documents_of_the_same_size()
    {
        var dirs = SampleStudy.Write(_store).Take(2);
        var result = ReportGenerator.Write(dirs, new ReportOptions { OutDirectory = Out("svg"), Format = ReportImageFormat.Svg });
        Assert.All(Links(File.ReadAllText(result.ReportPath)), l => Assert.EndsWith(".svg", l, StringComparison.Ordinal));
        string svg = File.ReadAllText(Out("svg/figures/loss-ft-s1.svg"));
        Assert.Contains("<svg", svg, StringComparison.Ordinal);
        Assert.Contains("width=\"900\"", svg, StringComparison.Ordinal);
        Assert.Contains("height=\"540\"", svg, StringComparison.Ordinal);
    }

    [Fact]
    public void Report_md_matches_the_approved_copy()
    {
        var result = ReportGenerator.Write(SampleStudy.Write(_store), new ReportOptions { OutDirectory = Out("report") });
        ApprovedFile.Verify(File.ReadAllText(result.ReportPath), "report.approved.md");
    }

    [Fact]
    public void Bad_input_is_a_user_error()
    {
        Assert.Throws<MiguUserException>(() => ReportGenerator.Write(Array.Empty<string>(), new ReportOptions { OutDirectory = Out("x") }));
        Assert.Equal("image format 'jpg' is not one of png, svg", Assert.Throws<MiguUserException>(() => ReportImageFormats.Parse("jpg")).Message);
        Assert.Equal(ReportImageFormat.Svg, ReportImageFormats.Parse("SVG"));
    }
}
