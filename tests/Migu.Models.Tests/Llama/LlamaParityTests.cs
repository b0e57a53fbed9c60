using System.Text.Json;
using Migu.Core;
using Migu.Models.Llama;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Tests.Llama;

/// <summary>
/// A transformers-saved checkpoint loaded with <see cref="LlamaForCausalLM.FromPretrained"/> gives
/// transformers' logits, loss, gradients, MIGU magnitudes and greedy generations (1e-4 relative +
/// 1e-5 absolute). "gqa": 4 query / 2 KV heads, default RoPE, untied head; "tied_llama3": tied
/// embeddings, llama3 RoPE scaling, head_dim ≠ hidden/heads, biases, a list of EOS ids.
/// </summary>
public class LlamaParityTests
{
    public static TheoryData<string> Variants => ["gqa", "tied_llama3"];

    [Theory]
    [MemberData(nameof(Variants))]
    public void Logits_and_loss_on_a_right_padded_batch_match_transformers(string variant)
    {
        JsonElement fx = LlamaFixture.Of(variant).GetProperty("forward");
        using var model = LlamaForCausalLM.FromPretrained(LlamaFixture.ModelDirectory(variant));
        model.eval();
        using var scope = NewDisposeScope();
        ModelOutput output = model.call(Batch(fx));
        Assert.Equal(LlamaFixture.Longs(fx.GetProperty("logits_shape")), output.Logits.shape);
        LlamaFixture.AssertClose(LlamaFixture.Doubles(fx.GetProperty("logits")), LlamaFixture.Values(output.Logits), $"{variant} logits");
        LlamaFixture.AssertClose([fx.GetProperty("loss").GetDouble()], [output.Loss!.item<float>()], $"{variant} loss");
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Gradients_after_backward_match_transformers(string variant)
    {
        JsonElement fx = LlamaFixture.Of(variant).GetProperty("forward");
        using var model = LlamaForCausalLM.FromPretrained(LlamaFixture.ModelDirectory(variant));
        model.eval();
        using var scope = NewDisposeScope();
        model.call(Batch(fx)).Loss!.backward();
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (JsonProperty grad in fx.GetProperty("grads").EnumerateObject())
        {
            Tensor? actual = parameters[grad.Name].grad;
            Assert.NotNull(actual);
            LlamaFixture.AssertClose(LlamaFixture.Doubles(grad.Value), LlamaFixture.Values(actual), $"{variant} grad {grad.Name}");
        }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Magnitudes_of_every_projection_exclude_padding_as_transformers_hooks_do(string variant)
    {
        JsonElement fx = LlamaFixture.Of(variant).GetProperty("forward");
        using var model = LlamaForCausalLM.FromPretrained(LlamaFixture.ModelDirectory(variant));
        model.eval();
        var projections = model.named_modules().Where(m => m.module is Projection).ToDictionary(m => m.name, m => (Projection)m.module);
        JsonElement expected = fx.GetProperty("magnitudes");
        Assert.Equal(expected.EnumerateObject().Select(p => p.Name).Order(), projections.Keys.Order());
        var accumulators = projections.ToDictionary(p => p.Key, p => zeros(p.Value.OutFeatures));
        try
        {
            foreach (var (name, projection) in projections)
            {
                projection.MagnitudeAccumulator = accumulators[name];
            }

            using (no_grad())
            using (var scope = NewDisposeScope())
            {
                model.call(Batch(fx));
            }

            foreach (var (name, accumulator) in accumulators)
            {
                LlamaFixture.AssertClose(LlamaFixture.Doubles(expected.GetProperty(name)), LlamaFixture.Values(accumulator), $"{variant} magnitudes {name}");
            }
        }
        finally
        {
            foreach (var (name, projection) in projections)
            {
                projection.MagnitudeAccumulator = null;
                accumulators[name].Dispose();
            }
        }
    }

    [Theory]
    [MemberData(nameof(Variants))]
    public void Greedy_generation_of_left_padded_prompts_stops_at_eos_like_transformers(string variant)
    {
        JsonElement fx = LlamaFixture.Of(variant).GetProperty("generate");
        using var model = LlamaForCausalLM.FromPretrained(LlamaFixture.ModelDirectory(variant));
        model.eval();
        using var scope = NewDisposeScope();
        Tensor ids = LlamaFixture.Ids(fx.GetProperty("input_ids"));
        Tensor mask = LlamaFixture.Ids(fx.GetProperty("attention_mask"));
        int newTokens = fx.GetProperty("max_new_tokens").GetInt32();

        Tensor withEos = model.Generate(ids, mask, newTokens);
        Assert.Equal(LlamaFixture.Ids(fx.GetProperty("output")).shape, withEos.shape);
        Assert.Equal(LlamaFixture.Longs(fx.GetProperty("output")), withEos.data<long>().ToArray());

        Tensor free = model.Generate(ids, mask, newTokens, eosTokenIds: [], padTokenId: null);
        Assert.Equal(LlamaFixture.Longs(fx.GetProperty("free_run")), free.data<long>().ToArray());
    }

    [Fact]
    public void The_tied_checkpoint_shares_one_embedding_with_the_head()
    {
        using var model = LlamaForCausalLM.FromPretrained(LlamaFixture.ModelDirectory("tied_llama3"));
        var names = model.named_parameters().Select(p => p.name).ToList();
        Assert.Contains("model.embed_tokens.weight", names);
        Assert.DoesNotContain("lm_head.weight", names);
        Assert.True(model.IsTiedCopy("lm_head.weight"));
        Assert.Same(model.LmHead.Weight, model.Decoder.EmbedTokens.Weight);
    }

    internal static ModelBatch Batch(JsonElement forward)
    {
        Tensor ids = LlamaFixture.Ids(forward.GetProperty("input_ids"));
        Tensor mask = LlamaFixture.Ids(forward.GetProperty("attention_mask"));
        return new ModelBatch { InputIds = ids, AttentionMask = mask, Labels = ids.masked_fill(mask.eq(0), -100) };
    }
}
