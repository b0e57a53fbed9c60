using Migu.Models.Tokenizers;

namespace Migu.Models.Tests.Tokenizers;

/// <summary>The bundled GPT-2 (r50k_base) tokenizer against ids GPT-2's tokenizer is known to give.</summary>
public class EmbeddedGpt2Tests
{
    private static readonly ITextTokenizer Gpt2 = EmbeddedTokenizer.Gpt2();

    [Theory]
    [InlineData("Hello world", new[] { 15496, 995 })]
    [InlineData("hello world", new[] { 31373, 995 })]
    [InlineData("<|endoftext|>", new[] { 50256 })]
    public void Encodes_known_gpt2_ids(string text, int[] expected)
    {
        Assert.Equal(expected, Gpt2.Encode(text));
    }

    [Fact]
    public void Vocabulary_and_special_ids_are_gpt2s()
    {
        Assert.Equal(50257, Gpt2.VocabSize);
        Assert.Equal(50256, Gpt2.EosTokenId);
        Assert.Equal(50256, Gpt2.BosTokenId);
        Assert.Equal(50256, Gpt2.PadTokenId); // documented choice: pad = eos, the mask marks padding
    }

    [Fact]
    public void Adds_no_special_tokens_and_decodes_round_trip()
    {
        const string text = "Café 😀 日本語\n\tdigits 12345";
        IReadOnlyList<int> ids = Gpt2.Encode(text, addSpecialTokens: true);
        Assert.Equal(Gpt2.Encode(text, addSpecialTokens: false), ids);
        Assert.DoesNotContain(50256, ids);
        Assert.Equal(text, Gpt2.Decode(ids));
    }

    [Fact]
    public void Decode_skips_end_of_text_only_when_asked()
    {
        int[] ids = [15496, 995, 50256];
        Assert.Equal("Hello world", Gpt2.Decode(ids, skipSpecialTokens: true));
        Assert.Equal("Hello world<|endoftext|>", Gpt2.Decode(ids, skipSpecialTokens: false));
    }
}
