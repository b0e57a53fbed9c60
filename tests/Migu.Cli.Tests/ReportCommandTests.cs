namespace Migu.Cli.Tests;

public sealed class ReportCommandTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("migu-cli-report").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    /// <summary>A finished two-task run as the runner writes it (recipe.json, metrics.json, loss.csv).</summary>
    private string Run(string name, string miguJson, int seed, double last0, double last1)
    {
        string dir = Directory.CreateDirectory(Path.Combine(_root, name)).FullName;
        File.WriteAllText(Path.Combine(dir, "recipe.json"), $$"""{"tasks": ["dbpedia", "amazon"], "model": "t5-tiny", "method": "ft", {{miguJson}} "seed": {{seed}}}""");
        string acc = FormattableString.Invariant($"{(last0 + last1) / 2}");
        File.WriteAllText(Path.Combine(dir, "metrics.json"), FormattableString.Invariant($$"""
            {"schema": 1, "tasks": ["dbpedia", "amazon"],
             "accuracy_matrix": [[0.9, 0.1], [{{last0}}, {{last1}}]], "macro_f1_matrix": [[0.9, 0.1], [{{last0}}, {{last1}}]],
             "baseline_accuracy": [0.0, 0.0], "acc": {{acc}}, "bwt": {{last0 - 0.9}}, "fwt": 0.1, "forgetting": {{0.9 - last0}},
             "timings": [], "total_seconds": 12, "finished": true}
            """));
        File.WriteAllText(Path.Combine(dir, "loss.csv"), "step,task_index,task,epoch,loss,lr,tokens,seconds\n0,0,dbpedia,0,2.0,0.0001,10,0.5\n1,0,dbpedia,0,1.5,0.0001,20,1.0\n2,1,amazon,0,2.2,0.0001,30,1.5\n3,1,amazon,0,1.1,0.0001,40,2.0\n");
        return dir;
    }

    [Fact]
    public void Report_writes_report_md_and_png_figures_and_prints_the_comparison()
    {
        string[] runs =
        [
            Run("ft-s1", string.Empty, 1, 0.5, 0.9),
            Run("ft-s2", string.Empty, 2, 0.6, 0.9),
            Run("ft-migu-s1", "\"migu\": {\"threshold\": 0.7},", 1, 0.8, 0.9),
        ];
        string output = Path.Combine(_root, "out");
        var (code, stdout, stderr) = MiguProcess.Run(["report", .. runs, "--out", output]);

        Assert.True(code == 0, stderr);
        // ft: ACC 0.70 and 0.75 → 72.5 ± 3.5 (sample std 0.05/√2).
        Assert.Contains("72.5 ± 3.5", stdout, StringComparison.Ordinal);
        Assert.Contains("ft+MIGU", stdout, StringComparison.Ordinal);
        Assert.Contains($"wrote {Path.Combine(output, "report.md")} and", stdout, StringComparison.Ordinal);
        string md = File.ReadAllText(Path.Combine(output, "report.md"));
        Assert.Contains("| ft | 2 | 72.5 ± 3.5 |", md, StringComparison.Ordinal);
        string[] figures = Directory.GetFiles(Path.Combine(output, "figures"));
        Assert.Equal(1 + (3 * 3), figures.Length);
        byte[] pngSignature = [0x89, (byte)'P', (byte)'N', (byte)'G', 0x0D, 0x0A, 0x1A, 0x0A];
        Assert.All(figures, f => Assert.Equal(pngSignature, File.ReadAllBytes(f).Take(8)));
    }

    [Fact]
    public void Report_of_a_folder_finds_the_runs_below_it()
    {
        // The demo's output: migu report migu-demo reads ft/ and ft-migu/.
        Run(Path.Combine("migu-demo", "ft"), string.Empty, 1, 0.5, 0.9);
        Run(Path.Combine("migu-demo", "ft-migu"), "\"migu\": {\"threshold\": 0.7},", 1, 0.8, 0.9);
        string output = Path.Combine(_root, "out");
        var (code, stdout, stderr) = MiguProcess.Run("report", Path.Combine(_root, "migu-demo"), "--out", output);

        Assert.True(code == 0, stderr);
        string md = File.ReadAllText(Path.Combine(output, "report.md"));
        Assert.Contains("| ft | 1 | 70.0 |", md, StringComparison.Ordinal);
        Assert.Contains("| ft+MIGU | 1 | 85.0 |", md, StringComparison.Ordinal);
        Assert.Contains("ft+MIGU", stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Report_refuses_bad_input_with_one_line_and_exit_code_2()
    {
        string good = Run("ft-s1", string.Empty, 1, 0.5, 0.9);
        string notARun = Directory.CreateDirectory(Path.Combine(_root, "not-a-run")).FullName;
        string broken = Run("broken", string.Empty, 1, 0.5, 0.9);
        File.WriteAllText(Path.Combine(broken, "metrics.json"), "{\"tasks\": [\"dbpedia\"],");

        (string[] Args, string Error)[] cases =
        [
            (["report"], "error: no run directory given: migu report RUN_DIR... [--out DIR] [--format png|svg]"),
            (["report", notARun], $"error: {notARun}: no run directory in it or below it (a run directory holds recipe.json and metrics.json)"),
            (["report", good, "--format", "jpg"], "error: image format 'jpg' is not one of png, svg"),
        ];
        foreach (var (args, error) in cases)
        {
            var (code, _, stderr) = MiguProcess.Run([.. args, "--out", Path.Combine(_root, "out")]);
            Assert.Equal(2, code);
            Assert.Equal(error, stderr.Trim());
        }

        var (brokenCode, stdout, brokenErr) = MiguProcess.Run("report", good, broken, "--out", Path.Combine(_root, "out"));
        Assert.Equal(2, brokenCode);
        Assert.StartsWith($"error: {Path.Combine(broken, "metrics.json")}: not valid metrics JSON", brokenErr.Trim(), StringComparison.Ordinal);
        Assert.Single(brokenErr.Trim().Split('\n'));
        Assert.DoesNotContain("   at ", stdout + brokenErr, StringComparison.Ordinal);
        Assert.False(File.Exists(Path.Combine(_root, "out", "report.md")));
    }
}
