using System.Text.Json.Nodes;
using Migu.Models.Checkpoints;
using Migu.Models.Llama;
using Migu.Models.Tests.Checkpoints;

namespace Migu.Cli.Tests;

/// <summary>`--model ORG/NAME[@REV]` from a Hugging Face cache of our own (HF_HUB_CACHE / HF_HOME), through real processes.</summary>
public sealed class HubIdCommandTests : IDisposable
{
    private const string Commit = "5f1c0de5f1c0de5f1c0de5f1c0de5f1c0de5f1c0";

    private readonly string model = Directory.CreateTempSubdirectory("migu-hub-src").FullName;
    private readonly string work = Directory.CreateTempSubdirectory("migu-hub-cli").FullName;
    private readonly FakeHubCache cache = new();
    private readonly TinyTaskRoot data = new();
    private readonly string snapshot;

    public HubIdCommandTests()
    {
        string tokenizer = RepoFiles.Path("tests", "Migu.Models.Tests", "Fixtures", "tokenizers", "llama3");
        foreach (string f in Directory.GetFiles(tokenizer))
        {
            File.Copy(f, Path.Combine(model, Path.GetFileName(f)));
        }

        TorchSharp.torch.manual_seed(7);
        using var llama = new LlamaForCausalLM(LlamaPresets.All["llama-tiny"] with { VocabSize = 704 });
        ModelCheckpoint.Save(llama, model);
        snapshot = cache.Add("acme/tiny-llama", model, Commit, links: true, "main");
    }

    private Dictionary<string, string> HubCacheEnv => new() { ["HF_HUB_CACHE"] = cache.Root };

    public void Dispose()
    {
        data.Dispose();
        cache.Dispose();
        Directory.Delete(model, recursive: true);
        Directory.Delete(work, recursive: true);
    }

    [Fact]
    public void Generate_with_a_hub_id_gives_what_the_checkpoint_directory_gives()
    {
        string[] args = ["--prompt", "Hello world", "--max-new-tokens", "4", "--json"];
        var byId = MiguProcess.RunWith(HubCacheEnv, ["generate", "--model", "acme/tiny-llama", .. args]);
        // HF_HOME/hub is the cache when HF_HUB_CACHE is not set.
        string home = Path.Combine(work, "hf-home");
        Directory.CreateDirectory(home);
        Directory.CreateSymbolicLink(Path.Combine(home, "hub"), cache.Root);
        var byHome = MiguProcess.RunWith(new Dictionary<string, string> { ["HF_HOME"] = home }, ["generate", "--model", $"acme/tiny-llama@{Commit}", .. args]);
        var byDir = MiguProcess.Run(["generate", "--model", model, .. args]);

        Assert.True(byId.ExitCode == 0, byId.Stderr);
        Assert.True(byHome.ExitCode == 0, byHome.Stderr);
        Assert.Equal(0, byDir.ExitCode);
        Assert.Equal(byDir.Stdout, byId.Stdout);
        Assert.Equal(byDir.Stdout, byHome.Stdout);
    }

    [Fact]
    public void A_run_records_the_snapshot_it_trained_from_and_eval_takes_the_hub_id_too()
    {
        string outDir = Path.Combine(work, "run");
        var (code, _, stderr) = MiguProcess.RunWith(HubCacheEnv, RunArgs("acme/tiny-llama", outDir));

        Assert.True(code == 0, stderr);
        JsonNode recipe = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "recipe.json")))!;
        Assert.Equal(snapshot, recipe["model"]!.GetValue<string>());
        // The checkpoint carries the model's own tokenizer files, not the embedded one of presets.
        Assert.Equal(
            File.ReadAllBytes(Path.Combine(model, "tokenizer.json")),
            File.ReadAllBytes(Path.Combine(outDir, "checkpoints", "task-01-moods", "tokenizer.json")));

        string scores = Path.Combine(work, "scores.json");
        var eval = MiguProcess.RunWith(
            HubCacheEnv, "eval", "--model", "acme/tiny-llama@main", "--data", data.Root, "--tasks", "moods", "--eval", "rank", "--max-source-len", "96", "--max-target-len", "8", "--out", scores);
        Assert.True(eval.ExitCode == 0, eval.Stderr);
        Assert.True(File.Exists(scores));
    }

    [Fact]
    public void Pretrain_continues_a_cached_model_with_its_own_tokenizer()
    {
        string corpus = Path.Combine(work, "notes.txt");
        File.WriteAllLines(corpus, Enumerable.Range(0, 40).Select(i => $"The lamp near the river was quiet on day {i}."));
        string outDir = Path.Combine(work, "pretrained");

        var (code, stdout, stderr) = MiguProcess.RunWith(
            HubCacheEnv, "pretrain", "--model", "acme/tiny-llama", "--corpus", corpus, "--steps", "2", "--seq-len", "32", "--batch", "4", "--out", outDir);

        Assert.True(code == 0, stderr + stdout);
        Assert.Equal(snapshot, JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "recipe.json")))!["model"]!.GetValue<string>());
        Assert.Equal(File.ReadAllBytes(Path.Combine(model, "tokenizer.json")), File.ReadAllBytes(Path.Combine(outDir, "tokenizer.json")));
    }

    [Fact]
    public void A_model_or_revision_not_in_the_cache_is_one_line_and_exit_2_with_nothing_written()
    {
        string repo = Path.Combine(cache.Root, "models--acme--absent");
        AssertUserError(RunArgs("acme/absent", Path.Combine(work, "a")), $"looked for {repo}", "`hf download acme/absent`");
        AssertUserError(RunArgs("acme/tiny-llama@v9", Path.Combine(work, "b")), "acme/tiny-llama@v9: revision not in the Hugging Face cache", "refs: main", "--revision v9");
        AssertUserError(["generate", "--model", "acme/absent", "--prompt", "x"], "`hf download acme/absent`");
        Assert.False(Directory.Exists(Path.Combine(work, "a")));
        Assert.False(Directory.Exists(Path.Combine(work, "b")));
    }

    private string[] RunArgs(string modelArgument, string outDir) =>
    [
        "run", "--data", data.Root, "--tasks", "moods", "--model", modelArgument, "--epochs", "1", "--batch", "4", "--max-train", "8",
        "--lr", "1e-3", "--max-source-len", "96", "--max-target-len", "8", "--eval", "rank", "--out", outDir,
    ];

    private void AssertUserError(string[] args, params string[] expected)
    {
        var (code, stdout, stderr) = MiguProcess.RunWith(HubCacheEnv, args);
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
