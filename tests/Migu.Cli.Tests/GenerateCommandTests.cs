using System.Text.Json.Nodes;
using Migu.Models.Checkpoints;
using Migu.Models.Llama;
using Migu.Models.T5;

namespace Migu.Cli.Tests;

/// <summary>`migu generate` on a small Llama saved beside a byte-level BPE tokenizer made by transformers.</summary>
public sealed class GenerateCommandTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("migu-gen").FullName;

    public GenerateCommandTests()
    {
        string tokenizer = RepoFiles.Path("tests", "Migu.Models.Tests", "Fixtures", "tokenizers", "llama3");
        foreach (string f in Directory.GetFiles(tokenizer))
        {
            File.Copy(f, Path.Combine(dir, Path.GetFileName(f)));
        }

        TorchSharp.torch.manual_seed(5);
        var config = LlamaPresets.All["llama-tiny"] with { VocabSize = 704 }; // covers the tokenizer's 661 ids
        using var model = new LlamaForCausalLM(config);
        ModelCheckpoint.Save(model, dir);
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Fact]
    public void Json_output_gives_prompt_ids_and_the_greedy_continuation_per_prompt()
    {
        var (code, stdout, stderr) = MiguProcess.Run("generate", "--model", dir, "--prompt", "Hello world", "--prompt", "A longer prompt, with more words", "--max-new-tokens", "5", "--json");

        Assert.True(code == 0, stderr);
        var lines = stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!).ToArray();
        Assert.Equal(2, lines.Length);
        Assert.Equal("Hello world", lines[0]["prompt"]!.GetValue<string>());
        int[] shortIds = Ids(lines[0]["input_ids"]!);
        int[] longIds = Ids(lines[1]["input_ids"]!);
        Assert.True(longIds.Length > shortIds.Length);
        foreach (var (line, ids) in new[] { (lines[0], shortIds), (lines[1], longIds) })
        {
            // Decoder-only: generate returns the left-padded prompt, then up to 5 new tokens.
            int[] generated = Ids(line["generated_ids"]!);
            Assert.Equal(longIds.Length + 5, generated.Length);
            Assert.Equal(ids, generated[(longIds.Length - ids.Length)..longIds.Length]);
            Assert.NotNull(line["text"]!.GetValue<string>());
        }
    }

    [Fact]
    public void Generation_is_deterministic_and_the_plain_output_shows_each_prompt()
    {
        var first = MiguProcess.Run("generate", "--model", dir, "--prompt", "Hello", "--max-new-tokens", "4");
        var second = MiguProcess.Run("generate", "--model", dir, "--prompt", "Hello", "--max-new-tokens", "4");
        Assert.Equal(0, first.ExitCode);
        Assert.StartsWith("Hello → ", first.Stdout, StringComparison.Ordinal);
        Assert.Equal(first.Stdout, second.Stdout);
    }

    [Fact]
    public void Bad_arguments_and_a_checkpoint_without_a_tokenizer_are_clear_errors()
    {
        var (code1, _, err1) = MiguProcess.Run("generate", "--model", dir, "--prompt", "x", "--max-new-tokens", "0");
        Assert.Equal(2, code1);
        Assert.Contains("--max-new-tokens must be at least 1", err1, StringComparison.Ordinal);

        string bare = Directory.CreateDirectory(Path.Combine(dir, "bare")).FullName;
        var (code2, _, err2) = MiguProcess.Run("generate", "--model", bare, "--prompt", "x");
        Assert.Equal(2, code2);
        Assert.DoesNotContain("   at ", err2, StringComparison.Ordinal);
    }

    [Fact]
    public void T5_output_is_the_decoder_sequence_from_its_start_token()
    {
        string t5Dir = Directory.CreateDirectory(Path.Combine(dir, "t5")).FullName;
        foreach (string f in Directory.GetFiles(RepoFiles.Path("tests", "Migu.Models.Tests", "Fixtures", "tokenizers", "t5")))
        {
            File.Copy(f, Path.Combine(t5Dir, Path.GetFileName(f)));
        }

        TorchSharp.torch.manual_seed(6);
        using (var model = new T5ForConditionalGeneration(T5Presets.All["t5-tiny"] with { VocabSize = 1024 }))
        {
            ModelCheckpoint.Save(model, t5Dir);
        }

        var (code, stdout, stderr) = MiguProcess.Run("generate", "--model", t5Dir, "--prompt", "translate: hello", "--prompt", "hi", "--max-new-tokens", "6", "--json");

        Assert.True(code == 0, stderr);
        foreach (JsonNode line in stdout.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(l => JsonNode.Parse(l)!))
        {
            int[] input = Ids(line["input_ids"]!);
            int[] generated = Ids(line["generated_ids"]!);
            Assert.Equal(1, input[^1]); // T5 appends </s>
            Assert.Equal(0, generated[0]); // decoder start token
            Assert.InRange(generated.Length, 2, 7);
        }
    }

    private static int[] Ids(JsonNode array) => array.AsArray().Select(v => v!.GetValue<int>()).ToArray();
}
