using System.Text.Json.Nodes;
using Migu.Models;
using Migu.Models.Llama;
using Migu.Models.Roberta;
using Migu.Models.T5;
using Migu.Models.Tokenizers;

namespace Migu.Cli.Tests;

/// <summary>`migu pretrain` as a real process on a small text file.</summary>
public sealed class PretrainCommandTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("migu-pretrain").FullName;
    private readonly string corpus;

    public PretrainCommandTests()
    {
        corpus = Path.Combine(dir, "notes.txt");
        string[] words = ["river", "market", "stone", "garden", "lamp", "winter", "letter", "harbour"];
        File.WriteAllLines(corpus, Enumerable.Range(0, 60).Select(i => $"The {words[i % 8]} near the {words[(i * 3 + 1) % 8]} was quiet on day {i}."));
    }

    public void Dispose() => Directory.Delete(dir, recursive: true);

    [Theory]
    [InlineData("roberta-tiny", typeof(RobertaForMaskedLM))]
    [InlineData("t5-tiny", typeof(T5ForConditionalGeneration))]
    [InlineData("llama-tiny", typeof(LlamaForCausalLM))]
    public void Pretraining_a_preset_leaves_a_checkpoint_that_reloads_with_its_tokenizer(string preset, Type expected)
    {
        string output = Path.Combine(dir, preset);
        var (code, stdout, stderr) = MiguProcess.Run("pretrain", "--model", preset, "--corpus", corpus, "--steps", "4", "--seq-len", "32", "--batch", "4", "--checkpoint-every", "2", "--out", output);

        Assert.True(code == 0, stderr + stdout);
        Assert.Contains("held-out", stdout, StringComparison.Ordinal);
        using LanguageModel model = ModelLoader.Load(output);
        Assert.IsType(expected, model);
        ITextTokenizer tokenizer = TokenizerLoader.Load(output);
        Assert.True(tokenizer.VocabSize <= Vocabulary(model));
        Assert.False(Directory.Exists(Path.Combine(output, "checkpoints", "mid")));
        Assert.Equal(5, File.ReadAllLines(Path.Combine(output, "loss.csv")).Length);
        Assert.True(JsonNode.Parse(File.ReadAllText(Path.Combine(output, "metrics.json")))!["finished"]!.GetValue<bool>());

        // Running the same command again finds the finished run; other settings are refused.
        var again = MiguProcess.Run("pretrain", "--model", preset, "--corpus", corpus, "--steps", "4", "--seq-len", "32", "--batch", "4", "--checkpoint-every", "2", "--out", output);
        Assert.Equal(0, again.ExitCode);
        Assert.Contains("nothing to do", again.Stdout, StringComparison.Ordinal);
        var other = MiguProcess.Run("pretrain", "--model", preset, "--corpus", corpus, "--steps", "5", "--seq-len", "32", "--out", output);
        Assert.Equal(2, other.ExitCode);
        Assert.Contains("$.pretrain.steps: 4 in the run, 5 now", other.Stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void A_checkpoint_continues_into_another_directory()
    {
        string first = Path.Combine(dir, "first");
        Assert.Equal(0, MiguProcess.Run("pretrain", "--model", "llama-tiny", "--corpus", corpus, "--steps", "2", "--seq-len", "32", "--batch", "4", "--out", first).ExitCode);
        string second = Path.Combine(dir, "second");
        var (code, stdout, stderr) = MiguProcess.Run("pretrain", "--model", first, "--corpus", corpus, "--steps", "2", "--seq-len", "32", "--batch", "4", "--out", second);
        Assert.True(code == 0, stderr + stdout);
        using LanguageModel model = ModelLoader.Load(second);
        Assert.IsType<LlamaForCausalLM>(model);

        var same = MiguProcess.Run("pretrain", "--model", first, "--corpus", corpus, "--out", first);
        Assert.Equal(2, same.ExitCode);
        Assert.Contains("--out must be another directory", same.Stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("--objective", "span", "objective span does not fit llama-tiny")]
    [InlineData("--objective", "bert", "--objective: 'bert' is not one of auto, mlm, span, causal")]
    [InlineData("--seq-len", "1000", "seq_len 1000 is longer than the model's 256 positions")]
    public void Bad_settings_are_one_line_and_exit_code_2_before_anything_is_written(string flag, string value, string message)
    {
        string output = Path.Combine(dir, "bad");
        var (code, _, stderr) = MiguProcess.Run("pretrain", "--model", "llama-tiny", "--corpus", corpus, flag, value, "--out", output);
        Assert.Equal(2, code);
        Assert.Contains(message, stderr, StringComparison.Ordinal);
        Assert.Single(stderr.Trim().Split('\n'));
        Assert.False(Directory.Exists(output)); // the corrected command starts afresh
    }

    private static long Vocabulary(LanguageModel model) => model switch
    {
        RobertaForMaskedLM r => r.Config.VocabSize,
        T5ForConditionalGeneration t => t.Config.VocabSize,
        LlamaForCausalLM l => l.Config.VocabSize,
        _ => 0,
    };
}
