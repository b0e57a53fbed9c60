using Migu.Models.T5;
using static TorchSharp.torch;

namespace Migu.Models.Tests.T5;

/// <summary>Greedy decoding against transformers' generate(do_sample=False, max_new_tokens=8).</summary>
public class T5GenerationTests
{
    [Theory]
    [InlineData("v10")] // row 0 emits EOS at its 4th token and is padded after it; row 1 runs to 8
    [InlineData("v11")]
    public void Greedy_tokens_equal_transformers_generate(string name)
    {
        var fx = T5Fixture.Load(name);
        using var model = T5ForConditionalGeneration.FromPretrained(fx.Directory);
        using var scope = NewDisposeScope();
        int maxNew = fx.Json.GetProperty("max_new_tokens").GetInt32();
        Tensor ids = model.Generate(fx.InputIds(), fx.AttentionMask(), maxNew);
        long[][] expected = fx.Json.GetProperty("generated").EnumerateArray()
            .Select(row => row.EnumerateArray().Select(e => e.GetInt64()).ToArray()).ToArray();
        Assert.Equal([expected.Length, expected[0].Length], ids.shape);
        for (int b = 0; b < expected.Length; b++)
        {
            using Tensor row = ids[b];
            Assert.Equal(expected[b], row.data<long>().ToArray());
        }
    }

    [Fact]
    public void Cached_decoding_gives_the_teacher_forced_logits()
    {
        var fx = T5Fixture.Load("v11");
        using var model = T5ForConditionalGeneration.FromPretrained(fx.Directory);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Tensor generated = model.Generate(fx.InputIds(), fx.AttentionMask(), 6); // (B, 7)
        // Feeding the generated prefix back: the argmax at each position is the next generated token.
        ModelOutput output = model.forward(new ModelBatch
        {
            InputIds = fx.InputIds(),
            AttentionMask = fx.AttentionMask(),
            DecoderInputIds = generated[.., ..^1],
        });
        Assert.Equal(T5Fixture.Values(generated[.., 1..]), T5Fixture.Values(output.Logits.argmax(-1)));
    }

    [Fact]
    public void Zero_new_tokens_returns_only_the_start_token()
    {
        var fx = T5Fixture.Load("v10");
        using var model = T5ForConditionalGeneration.FromPretrained(fx.Directory);
        using var scope = NewDisposeScope();
        Tensor ids = model.Generate(fx.InputIds(), fx.AttentionMask(), 0);
        Assert.Equal(new long[] { 0, 0 }, ids.data<long>().ToArray());
    }
}
