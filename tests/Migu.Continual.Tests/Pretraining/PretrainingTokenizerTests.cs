using System.Text.Json;
using Migu.Continual.Pretraining;
using Migu.Models;
using Migu.Models.Tokenizers;

namespace Migu.Continual.Tests.Pretraining;

public sealed class PretrainingTokenizerTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("migu-tok").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void Masked_lm_adds_a_mask_token_after_the_compact_vocabulary()
    {
        string dir = Path.Combine(root, "mlm");
        ITextTokenizer tokenizer = PretrainingTokenizer.Prepare(null, PretrainObjective.Mlm, dir);
        ObjectiveTokens tokens = ObjectiveTokens.Of(tokenizer);

        Assert.Equal(2049, tokenizer.VocabSize);
        Assert.Equal(2048, tokens.Mask);
        var compact = EmbeddedTokenizer.Compact();
        Assert.Equal([.. compact.Encode("a", false), 2048, .. compact.Encode(" b", false)], tokenizer.Encode("a<mask> b", addSpecialTokens: false));
        Assert.Equal(compact.Encode("continual learning", false), tokenizer.Encode("continual learning", false));
        Assert.Contains(2048, tokens.Special);
        using JsonDocument config = JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "tokenizer_config.json")));
        Assert.Equal("<mask>", config.RootElement.GetProperty("mask_token").GetString());
    }

    [Fact]
    public void Span_corruption_adds_100_sentinels_counted_down_from_the_top()
    {
        ITextTokenizer tokenizer = PretrainingTokenizer.Prepare(null, PretrainObjective.Span, Path.Combine(root, "span"));
        ObjectiveTokens tokens = ObjectiveTokens.Of(tokenizer);

        Assert.Equal(2148, tokenizer.VocabSize);
        Assert.Equal(100, tokens.Sentinels.Count);
        Assert.Equal(2147, tokens.Sentinels[0]);
        Assert.Equal(2048, tokens.Sentinels[99]);
        Assert.Null(tokens.Mask);
    }

    [Fact]
    public void Causal_lm_keeps_the_tokenizer_as_it_is_and_a_second_prepare_reuses_the_files()
    {
        string dir = Path.Combine(root, "causal");
        ITextTokenizer first = PretrainingTokenizer.Prepare(null, PretrainObjective.Causal, dir);
        Assert.Equal(2048, first.VocabSize);

        // A resumed run reads the files it wrote, whatever it is asked now.
        ITextTokenizer again = PretrainingTokenizer.Prepare(null, PretrainObjective.Mlm, dir);
        Assert.Equal(2048, again.VocabSize);
    }

    [Fact]
    public void A_prepared_tokenizer_folder_loads_elsewhere_with_the_same_ids()
    {
        string dir = Path.Combine(root, "copy-src");
        ITextTokenizer tokenizer = PretrainingTokenizer.Prepare(null, PretrainObjective.Mlm, dir);
        string copy = Path.Combine(root, "copy");
        PretrainingTokenizer.CopyFiles(dir, copy);
        Assert.Equal(tokenizer.Encode("x <mask> y", false), TokenizerLoader.Load(copy).Encode("x <mask> y", false));
    }
}
