using Migu.Models.Tokenizers;
using static Migu.Models.Tests.Tokenizers.TokenizerFixtures;

namespace Migu.Models.Tests.Tokenizers;

/// <summary>
/// Each fixture directory, loaded with TokenizerLoader, must give exactly the ids and decoded text that
/// transformers' AutoTokenizer gives for the same directory: unicode, emoji, CJK, runs of spaces,
/// newlines, tabs, digits, punctuation, the empty string, and special tokens written in the text.
/// </summary>
public class TransformersParityTests
{
    public static TheoryData<string> Families => new()
    {
        "t5", "llama2", "llama2_bos", "llama2_legacy", "llama2_hub", "llama3", "gpt2json", "roberta", "roberta_prefix",
    };

    [Theory]
    [MemberData(nameof(Families))]
    public void Ids_match_transformers_with_and_without_special_tokens(string family)
    {
        ITextTokenizer tokenizer = TokenizerLoader.Load(Dir(family));
        AssertIds(tokenizer, Cases(family));
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Decoded_text_matches_transformers_skipping_specials_and_not(string family)
    {
        ITextTokenizer tokenizer = TokenizerLoader.Load(Dir(family));
        var failures = new List<string>();
        foreach (Case c in Cases(family))
        {
            string skip = tokenizer.Decode(c.Ids, skipSpecialTokens: true);
            string keep = tokenizer.Decode(c.Ids, skipSpecialTokens: false);
            if (skip != c.DecodedSkip)
            {
                failures.Add($"{c}: skip {Show(skip)} expected {Show(c.DecodedSkip)}");
            }

            if (keep != c.DecodedKeep)
            {
                failures.Add($"{c}: keep {Show(keep)} expected {Show(c.DecodedKeep)}");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    [Theory]
    [MemberData(nameof(Families))]
    public void Special_token_ids_and_size_match_transformers(string family)
    {
        ITextTokenizer tokenizer = TokenizerLoader.Load(Dir(family));
        var expected = Golden.GetProperty(family).GetProperty("tokenizer");
        Assert.Equal(expected.GetProperty("len").GetInt32(), tokenizer.VocabSize);
        Assert.Equal(NullableInt(expected, "bos_token_id"), tokenizer.BosTokenId);
        Assert.Equal(NullableInt(expected, "eos_token_id"), tokenizer.EosTokenId);
        Assert.Equal(NullableInt(expected, "pad_token_id"), tokenizer.PadTokenId);
    }

    [Theory]
    [InlineData("roberta")]
    [InlineData("roberta_prefix")]
    public void Roberta_from_vocab_json_and_merges_txt_alone_matches_transformers(string family)
    {
        string dir = CopyOf(family, "vocab.json", "merges.txt", "tokenizer_config.json");
        try
        {
            ITextTokenizer tokenizer = TokenizerLoader.Load(dir);
            Assert.Equal(1, tokenizer.PadTokenId);
            AssertIds(tokenizer, Cases(family, "cases_from_vocab_merges"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void T5_from_spiece_model_alone_matches_transformers()
    {
        // No tokenizer.json: pad/eos/unk come from the model and the 100 sentinels are synthesized.
        string dir = CopyOf("t5", "spiece.model");
        try
        {
            ITextTokenizer tokenizer = TokenizerLoader.Load(dir);
            Assert.Equal(0, tokenizer.PadTokenId);
            Assert.Equal(1, tokenizer.EosTokenId);
            Assert.Null(tokenizer.BosTokenId);
            AssertIds(tokenizer, Cases("t5"));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Llama2_from_tokenizer_model_alone_puts_bos_first_and_no_eos()
    {
        // transformers' saved tokenizer.json for this model has no BOS in its template (the fixture's
        // reference ids); a bare tokenizer.model gets LlamaTokenizer's defaults: add_bos_token, no EOS.
        string dir = CopyOf("llama2", "tokenizer.model");
        try
        {
            ITextTokenizer tokenizer = TokenizerLoader.Load(dir);
            Assert.Equal(1, tokenizer.BosTokenId);
            Assert.Equal(2, tokenizer.EosTokenId);
            var failures = new List<string>();
            foreach (Case c in Cases("llama2"))
            {
                int[] expected = [1, .. c.IdsNoSpecial];
                int[] actual = [.. tokenizer.Encode(c.Text)];
                if (!expected.SequenceEqual(actual))
                {
                    failures.Add($"{c}: [{string.Join(", ", actual)}] expected [{string.Join(", ", expected)}]");
                }
            }

            Assert.True(failures.Count == 0, string.Join("\n", failures));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Loader_picks_the_tokenizer_kind_by_files()
    {
        Assert.IsType<SentencePieceTextTokenizer>(TokenizerLoader.Load(Dir("t5")));
        Assert.IsType<SentencePieceTextTokenizer>(TokenizerLoader.Load(Dir("llama2")));
        Assert.IsType<ByteLevelBpeTokenizer>(TokenizerLoader.Load(Dir("llama3")));
        Assert.IsType<ByteLevelBpeTokenizer>(TokenizerLoader.Load(Dir("roberta")));
    }

    private static void AssertIds(ITextTokenizer tokenizer, IEnumerable<Case> cases)
    {
        var failures = new List<string>();
        foreach (Case c in cases)
        {
            int[] with = [.. tokenizer.Encode(c.Text, addSpecialTokens: true)];
            int[] without = [.. tokenizer.Encode(c.Text, addSpecialTokens: false)];
            if (!with.SequenceEqual(c.Ids))
            {
                failures.Add($"{c}: [{string.Join(", ", with)}] expected [{string.Join(", ", c.Ids)}]");
            }

            if (!without.SequenceEqual(c.IdsNoSpecial))
            {
                failures.Add($"{c} (no specials): [{string.Join(", ", without)}] expected [{string.Join(", ", c.IdsNoSpecial)}]");
            }
        }

        Assert.True(failures.Count == 0, string.Join("\n", failures));
    }

    private static int? NullableInt(System.Text.Json.JsonElement e, string name) =>
        e.GetProperty(name).ValueKind == System.Text.Json.JsonValueKind.Null ? null : e.GetProperty(name).GetInt32();

    private static string Show(string s) => System.Text.Json.JsonSerializer.Serialize(s);
}
