using System.Text.Json.Nodes;
using Migu.Continual.Recipes;
using Migu.Continual.Runs;
using Migu.Core;
using Migu.Models;
using Migu.Models.Checkpoints;
using Migu.Models.Tokenizers;
using static TorchSharp.torch;

namespace Migu.Cli.Tests;

/// <summary>
/// `migu analyze` as a real process on tiny Llama checkpoints saved here (random weights, the
/// embedded compact tokenizer) and on a run directory laid out as the runner writes it.
/// </summary>
public sealed class AnalyzeCommandTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("migu-analyze-cli").FullName;

    public AnalyzeCommandTests()
    {
        Checkpoint(Path.Combine(root, "base"), seed: 1);
        // An FT+MIGU run over agnews then yelp that has finished its first task only.
        string run = Path.Combine(root, "runs", "ft-migu");
        Directory.CreateDirectory(run);
        File.WriteAllText(Path.Combine(run, RunStore.RecipeFile), RecipeJson.Serialize(new Recipe
        {
            Tasks = ["agnews", "yelp"],
            Model = "llama-tiny",
            Migu = new MiguOptions(),
            Training = new TrainingSettings { MaxSourceLength = 96, MaxTargetLength = 8 },
        }));
        Checkpoint(Path.Combine(run, "checkpoints", "task-01-agnews"), seed: 2);
    }

    private string Base => Path.Combine(root, "base");

    private string Run => Path.Combine(root, "runs", "ft-migu");

    public void Dispose() => Directory.Delete(root, recursive: true);

    private static void Checkpoint(string dir, long seed)
    {
        manual_seed(seed);
        var (model, _) = ModelLoader.LoadWithTokenizer("llama-tiny", null, CPU);
        using (model)
        {
            ModelCheckpoint.Save(model, dir);
        }

        EmbeddedTokenizer.WriteCompactFiles(dir);
    }

    [Fact]
    public void Compares_a_checkpoint_with_a_runs_newest_checkpoint_on_the_runs_tasks()
    {
        string output = Path.Combine(root, "out");

        var (code, stdout, stderr) = MiguProcess.Run("analyze", "--model", Base, "--run", Run, "--samples", "3", "--out", output);

        Assert.True(code == 0, stderr);
        Assert.Contains("mean off-diagonal", stdout, StringComparison.Ordinal);
        Assert.Contains("note: ft+MIGU: unfinished run: the newest checkpoint is task-01-agnews, after phase 1 of 2", stdout, StringComparison.Ordinal);
        JsonNode json = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "analysis.json")))!;
        Assert.Equal(["agnews", "yelp"], json["tasks"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Equal(["base", "ft+MIGU"], json["models"]!.AsArray().Select(m => m!["label"]!.GetValue<string>()));
        foreach (JsonNode? m in json["models"]!.AsArray())
        {
            Assert.Equal(2, m!["similarity"]!.AsArray().Count);
            Assert.Equal(14, m["layers"]!.AsArray().Count);
            Assert.Equal("model.layers.0.mlp.up_proj", m["distribution_layer"]!.GetValue<string>());
        }

        // Both decode as images, two panels side by side: wider than tall, and at least two minimum panels wide.
        foreach (string figure in new[] { "magnitude-similarity.png", "magnitude-distribution.png" })
        {
            using var bitmap = SkiaSharp.SKBitmap.Decode(Path.Combine(output, "figures", figure));
            Assert.True(bitmap is not null && bitmap.Width > bitmap.Height && bitmap.Width >= 2 * 480, figure);
        }

        string md = File.ReadAllText(Path.Combine(output, "analysis.md"));
        Assert.Contains("| ft+MIGU | " + Path.Combine(Run, "checkpoints", "task-01-agnews"), md, StringComparison.Ordinal);
    }

    [Fact]
    public void Models_keep_the_order_they_were_given_in()
    {
        string output = Path.Combine(root, "out2");

        var (code, _, stderr) = MiguProcess.Run(
            "analyze", "--run", Run, "--model", Base, "--model", "llama-tiny", "--tasks", "yelp,dbpedia", "--samples", "1", "--layers", "q", "--out", output);

        Assert.True(code == 0, stderr);
        JsonNode json = JsonNode.Parse(File.ReadAllText(Path.Combine(output, "analysis.json")))!;
        Assert.Equal(["ft+MIGU", "base", "llama-tiny"], json["models"]!.AsArray().Select(m => m!["label"]!.GetValue<string>()));
        Assert.Equal(["yelp", "dbpedia"], json["tasks"]!.AsArray().Select(t => t!.GetValue<string>()));
        Assert.Equal(2, json["models"]![0]!["layers"]!.AsArray().Count); // q in each of two blocks
    }

    [Theory]
    [InlineData("no model", "no model to analyze")]
    [InlineData("unknown layer", "--layer 'mlp.up' names no linear layer of base; its 15 linear layers include ")]
    [InlineData("tasks missing", "no tasks named; give --tasks a,b,c")]
    [InlineData("run without checkpoints", "no task checkpoint under checkpoints/")]
    [InlineData("not a run", "no recipe.json; not a run directory")]
    [InlineData("unknown task", "the task list names tasks that are not there: imdb")]
    [InlineData("bad format", "image format 'gif' is not one of png, svg")]
    public void Mistakes_end_with_one_line_and_exit_code_2(string mistake, string message)
    {
        string data = Path.Combine(root, "data", "TC", "tiny");
        Directory.CreateDirectory(data);
        File.WriteAllText(Path.Combine(data, "labels.json"), "[\"a\"]");
        string emptyRun = Path.Combine(root, "empty-run");
        Directory.CreateDirectory(emptyRun);
        File.WriteAllText(Path.Combine(emptyRun, RunStore.RecipeFile), RecipeJson.Serialize(new Recipe { Tasks = ["agnews", "yelp"] }));
        string output = Path.Combine(root, "never");
        string[] args = mistake switch
        {
            "no model" => ["analyze", "--out", output],
            "unknown layer" => ["analyze", "--model", Base, "--layer", "mlp.up", "--out", output],
            "tasks missing" => ["analyze", "--model", Base, "--data", Path.Combine(root, "data"), "--out", output],
            "run without checkpoints" => ["analyze", "--run", emptyRun, "--out", output],
            "not a run" => ["analyze", "--run", Base, "--out", output],
            "unknown task" => ["analyze", "--model", Base, "--tasks", "agnews,imdb", "--out", output],
            _ => ["analyze", "--model", Base, "--format", "gif", "--out", output],
        };

        var (code, _, stderr) = MiguProcess.Run(args);

        Assert.Equal(2, code);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Split('\n', StringSplitOptions.RemoveEmptyEntries));
        Assert.False(File.Exists(Path.Combine(output, "analysis.md")));
    }
}
