using System.Text.Json.Nodes;
using Migu.Cli.Commands;

namespace Migu.Cli.Tests;

/// <summary>`migu run`, `migu eval`, `migu demo` and `migu bench` as real processes on tiny inputs.</summary>
public sealed class RunCommandTests : IDisposable
{
    private readonly TinyTaskRoot data = new();
    private readonly string work = Directory.CreateTempSubdirectory("migu-run-cli").FullName;

    public void Dispose()
    {
        data.Dispose();
        Directory.Delete(work, recursive: true);
    }

    private string[] Tiny(string outDir, params string[] extra) => TinyWith(outDir, "colors,moods", "3e-3", extra);

    private string[] TinyWith(string outDir, string tasks, string lr, params string[] extra) =>
    [
        "run", "--data", data.Root, "--tasks", tasks, "--model", "llama-tiny", "--epochs", "1", "--batch", "4",
        "--lr", lr, "--max-source-len", "64", "--max-target-len", "4", "--eval", "rank", "--out", outDir, .. extra,
    ];

    [Fact]
    public void A_run_by_flags_trains_both_tasks_prints_the_matrix_and_a_second_call_resumes_as_finished()
    {
        string outDir = Path.Combine(work, "run");
        var (code, stdout, stderr) = MiguProcess.Run(Tiny(outDir, "--migu", "0.5"));

        Assert.True(code == 0, stderr);
        Assert.Contains("after \\ on", stdout, StringComparison.Ordinal);
        Assert.Contains("ft+MIGU", stdout, StringComparison.Ordinal);
        JsonNode metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "metrics.json")))!;
        Assert.Equal(2, metrics["accuracy_matrix"]!.AsArray().Count);
        Assert.True(metrics["finished"]!.GetValue<bool>());
        Assert.Empty(Directory.GetFiles(outDir, "*.tmp", SearchOption.AllDirectories));

        var again = MiguProcess.Run(Tiny(outDir, "--migu", "0.5"));
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("finished run; nothing to do", again.Stdout, StringComparison.Ordinal);
    }

    [Fact]
    public void Dump_recipe_shows_what_flags_mean_and_a_recipe_file_takes_overrides()
    {
        var (code, stdout, _) = MiguProcess.Run("run", "--model", "t5-tiny", "--method", "olora", "--lambda1", "0.25", "--migu", "0.6", "--dump-recipe");
        Assert.Equal(0, code);
        JsonNode recipe = JsonNode.Parse(stdout)!;
        Assert.Equal("olora", recipe["method"]!.GetValue<string>());
        Assert.Equal(0.25, recipe["olora"]!["lambda1"]!.GetValue<double>());
        Assert.Equal(0.6, recipe["migu"]!["threshold"]!.GetValue<double>());

        string file = Path.Combine(work, "recipe.json");
        File.WriteAllText(file, stdout);
        var (code2, stdout2, _) = MiguProcess.Run("run", file, "--lr", "0.001", "--migu", "off", "--dump-recipe");
        Assert.Equal(0, code2);
        JsonNode changed = JsonNode.Parse(stdout2)!;
        Assert.Equal(0.001, changed["training"]!["lr"]!.GetValue<double>());
        Assert.Null(changed["migu"]);
        Assert.Equal("olora", changed["method"]!.GetValue<string>());
    }

    [Fact]
    public void User_errors_are_one_line_with_exit_code_2_and_leave_nothing_half_written()
    {
        // Malformed JSON, a label outside labels.json, an empty split, an unknown task, an unknown preset.
        File.WriteAllText(Path.Combine(data.TaskDirectory("TC", "colors"), "test.json"), "[{\"sentence\": \"x\", \"label\": \"red\"},");
        AssertUserError(Tiny(Path.Combine(work, "a")), "test.json");
        File.WriteAllText(Path.Combine(data.TaskDirectory("TC", "colors"), "test.json"), "[{\"sentence\": \"x\", \"label\": \"purple\"}]");
        AssertUserError(Tiny(Path.Combine(work, "b")), "'purple' is not in labels.json");
        File.WriteAllText(Path.Combine(data.TaskDirectory("TC", "colors"), "test.json"), "[]");
        AssertUserError(Tiny(Path.Combine(work, "c")), "test.json");
        AssertUserError(["run", "--data", data.Root, "--tasks", "colors,weather", "--out", Path.Combine(work, "d")], "tasks that are not there: weather", "available: colors (TC), moods (SC)");
        AssertUserError(["run", "--data", data.Root, "--tasks", "moods", "--model", "gpt-5", "--out", Path.Combine(work, "e")], "'gpt-5' is neither a checkpoint directory nor a preset");
        AssertUserError(["run", Path.Combine(work, "absent.json"), "--out", Path.Combine(work, "f")], "no such recipe file");
        foreach (string dir in new[] { "a", "b", "c", "d", "e", "f" })
        {
            Assert.False(File.Exists(Path.Combine(work, dir, "metrics.json")), dir);
        }
    }

    [Fact]
    public void A_nan_loss_stops_the_run_with_one_line_and_a_different_recipe_on_the_same_out_is_refused()
    {
        string outDir = Path.Combine(work, "nan");
        var (code, stdout, stderr) = MiguProcess.Run(TinyWith(outDir, "moods", "1e30", "--clip", "0"));
        Assert.Equal(2, code);
        Assert.Matches("^error: task moods, step \\d+: loss is (NaN|∞|-∞|Infinity)", stderr.Trim());
        Assert.DoesNotContain("   at ", stdout + stderr, StringComparison.Ordinal);
        Assert.Null(JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "metrics.json")))!["accuracy_matrix"]!.AsArray().FirstOrDefault());

        AssertUserError(TinyWith(outDir, "moods", "1e-3", "--clip", "0"), "holds a run of a different recipe ($.training.lr: 1E+30 in the run, 0.001 now)");

        // A command line the parser rejects is a user error too: one line, exit code 2.
        AssertUserError(["run", "--epochs", "many", "--out", outDir], "many");
    }

    [Fact]
    public void Eval_scores_a_run_checkpoint_and_writes_json()
    {
        string outDir = Path.Combine(work, "run");
        Assert.Equal(0, MiguProcess.Run(Tiny(outDir)).ExitCode);
        string checkpoint = Path.Combine(outDir, "checkpoints", "task-02-moods");
        string scores = Path.Combine(work, "scores.json");

        var (code, stdout, stderr) = MiguProcess.Run("eval", "--model", checkpoint, "--data", data.Root, "--tasks", "colors,moods", "--eval", "rank", "--max-source-len", "64", "--max-target-len", "4", "--out", scores);

        Assert.True(code == 0, stderr);
        Assert.Contains("mean accuracy", stdout, StringComparison.Ordinal);
        JsonNode report = JsonNode.Parse(File.ReadAllText(scores))!;
        Assert.Equal(["colors", "moods"], report["tasks"]!.AsArray().Select(t => t!["task"]!.GetValue<string>()));
        // The run scored the same checkpoint the same way after its last task.
        JsonNode metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "metrics.json")))!;
        Assert.Equal(metrics["accuracy_matrix"]![1]![0]!.GetValue<double>(), report["tasks"]![0]!["accuracy"]!.GetValue<double>(), 9);
    }

    [Fact]
    public void The_demo_runs_ft_and_ft_migu_and_prints_both_matrices()
    {
        string outDir = Path.Combine(work, "demo");
        var (code, stdout, stderr) = MiguProcess.Run(
            "demo", "--out", outDir, "--model", "llama-tiny", "--epochs", "1", "--max-train", "8", "--max-test", "4", "--max-source-len", "160", "--eval", "rank");

        Assert.True(code == 0, stderr);
        Assert.Contains("FT: accuracy %", stdout, StringComparison.Ordinal);
        Assert.Contains("FT + MIGU: accuracy %", stdout, StringComparison.Ordinal);
        Assert.Contains("BWT", stdout, StringComparison.Ordinal);
        foreach (string run in new[] { "ft", "ft-migu" })
        {
            JsonNode metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, run, "metrics.json")))!;
            Assert.Equal(["dbpedia", "amazon", "yelp", "agnews"], metrics["tasks"]!.AsArray().Select(t => t!.GetValue<string>()));
            Assert.Equal(4, metrics["accuracy_matrix"]!.AsArray().Count);
        }

        JsonNode migu = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "ft-migu", "recipe.json")))!;
        Assert.Equal(DemoSetting.Threshold, migu["migu"]!["threshold"]!.GetValue<double>());
        Assert.Null(migu["training"]!["head_lr_scale"]); // the MiniLM demo's head rate: a generative model has no fresh head
        // FT + MIGU started from FT's store after the first task (MIGU skips it), then trained the rest itself.
        Assert.Contains("starts from FT's model after it", stdout, StringComparison.Ordinal);
        JsonNode ftMetrics = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "ft", "metrics.json")))!;
        JsonNode miguMetrics = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "ft-migu", "metrics.json")))!;
        Assert.Equal(ftMetrics["accuracy_matrix"]![0]!.ToJsonString(), miguMetrics["accuracy_matrix"]![0]!.ToJsonString());
        Assert.Equal(["1", "2", "3"], File.ReadAllLines(Path.Combine(outDir, "ft-migu", "loss.csv")).Skip(1).Select(l => l.Split(',')[1]).Where(t => t != "0").Distinct());
        Assert.Null(JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "ft", "recipe.json")))!["migu"]);
    }

    [Fact]
    public void Bench_prints_one_json_line_per_case_on_the_cpu()
    {
        var (code, stdout, stderr) = MiguProcess.Run(
            "bench", "--device", "cpu", "--dtype", "fp32", "--cases", "llama-tiny-ft,llama-tiny-ftmigu,t5-tiny-loramigu", "--steps", "2", "--warmup", "1",
            "--seq-len", "32", "--src-len", "16", "--tgt-len", "4", "--batch", "2");

        Assert.True(code == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToList();
        Assert.Equal("cpu", lines[0]["device"]!.GetValue<string>());
        Assert.Equal(["llama-tiny-ft", "llama-tiny-ftmigu", "t5-tiny-loramigu"], lines.Skip(1).Select(l => l["case"]!.GetValue<string>()));
        foreach (JsonNode line in lines.Skip(1))
        {
            Assert.True(line["step_ms"]!.GetValue<double>() > 0);
            Assert.True(line["tokens_per_s"]!.GetValue<double>() > 0);
            Assert.True(double.IsFinite(line["loss"]!.GetValue<double>()));
        }

        Assert.Equal(2 * 32, lines[1]["batch"]!.GetValue<int>() * lines[1]["src"]!.GetValue<int>());
        Assert.True(lines[3]["trainable"]!.GetValue<long>() < lines[3]["params"]!.GetValue<long>()); // LoRA trains adapters only
        var bad = MiguProcess.Run("bench", "--device", "cpu", "--cases", "llama-tiny-sgd");
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("does not end in -ft, -ftmigu, -lora or -loramigu", bad.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_sweep_runs_every_point_and_seed_resumes_by_skipping_finished_runs_and_reports_them()
    {
        string outDir = Path.Combine(work, "sweep");
        string[] args =
        [
            "sweep", "--data", data.Root, "--tasks", "colors,moods", "--model", "llama-tiny", "--epochs", "1", "--batch", "4",
            "--lr", "3e-3", "--max-source-len", "64", "--max-target-len", "4", "--eval", "rank", "--max-train", "8",
            "--grid", "migu=0,0.5", "--seeds", "1,2", "--out", outDir,
        ];
        var (code, stdout, stderr) = MiguProcess.Run(args);

        Assert.True(code == 0, stderr);
        foreach (string point in new[] { "migu=0", "migu=0.5" })
        {
            foreach (string seed in new[] { "seed=1", "seed=2" })
            {
                JsonNode metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, point, seed, "metrics.json")))!;
                Assert.True(metrics["finished"]!.GetValue<bool>());
            }
        }

        Assert.Null(JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "migu=0", "seed=1", "recipe.json")))!["migu"]); // T = 0 is MIGU off
        Assert.Equal(2, JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "migu=0.5", "seed=2", "recipe.json")))!["seed"]!.GetValue<long>());
        Assert.True(File.Exists(Path.Combine(outDir, "report", "report.md")));
        Assert.Contains("ft+MIGU", stdout, StringComparison.Ordinal);

        var again = MiguProcess.Run(args);
        Assert.Equal(0, again.ExitCode);
        Assert.Equal(4, again.Stdout.Split("finished run; nothing to do").Length - 1);

        var bad = MiguProcess.Run("sweep", "--grid", "migu", "--out", outDir);
        Assert.Equal(2, bad.ExitCode);
        Assert.Contains("is not KEY=V1,V2", bad.Stderr, StringComparison.Ordinal);
    }

    private static void AssertUserError(string[] args, params string[] expected)
    {
        var (code, stdout, stderr) = MiguProcess.Run(args);
        Assert.True(code == 2, $"exit {code}: {stderr}");
        string line = stderr.Trim();
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', line);
        Assert.DoesNotContain("   at ", stdout + stderr, StringComparison.Ordinal);
        foreach (string part in expected)
        {
            Assert.Contains(part, line, StringComparison.Ordinal);
        }
    }
}
