using Migu.Models.T5;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Models.Tests.T5;

/// <summary>Forward, loss, gradients and MIGU magnitudes against transformers 5.17 on the same checkpoints (fp32, CPU).</summary>
public class T5ParityTests
{
    [Theory]
    [InlineData("v10")]
    [InlineData("v11")]
    public void Logits_loss_gradients_and_magnitudes_match_transformers(string name)
    {
        var fx = T5Fixture.Load(name);
        using var model = T5ForConditionalGeneration.FromPretrained(fx.Directory);
        var projections = T5Fixture.InstallAccumulators(model);
        using var scope = NewDisposeScope();
        var batch = new ModelBatch
        {
            InputIds = fx.InputIds(),
            AttentionMask = fx.AttentionMask(),
            Labels = fx.Labels(),
            DecoderAttentionMask = fx.DecoderAttentionMask(),
        };

        ModelOutput output = model.forward(batch);
        Assert.Equal([fx.Batch, fx.DecoderLength, fx.Vocab], output.Logits.shape);
        T5Fixture.AssertClose(fx.Doubles("logits"), T5Fixture.Values(output.Logits), $"{name} logits");
        T5Fixture.AssertClose([fx.Json.GetProperty("loss").GetDouble()], T5Fixture.Values(output.Loss!), $"{name} loss");

        var expectedMagnitudes = fx.Json.GetProperty("magnitudes").EnumerateObject().ToDictionary(p => p.Name, p => T5Fixture.ToDoubles(p.Value));
        Assert.Equal(expectedMagnitudes.Keys.Order(), projections.Keys.Order());
        foreach (var (layer, expected) in expectedMagnitudes)
        {
            T5Fixture.AssertClose(expected, T5Fixture.Values(projections[layer].MagnitudeAccumulator!), $"{name} magnitudes of {layer}");
        }

        output.Loss!.backward();
        var parameters = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var grad in fx.Json.GetProperty("grads").EnumerateObject())
        {
            // A tied head's weight is shared.weight (transformers lists the same tensor under both names).
            string key = parameters.ContainsKey(grad.Name) ? grad.Name : (grad.Name == "lm_head.weight" ? "shared.weight" : grad.Name);
            Parameter p = parameters[key];
            T5Fixture.AssertClose(T5Fixture.ToDoubles(grad.Value), T5Fixture.Values(p.grad!), $"{name} grad of {grad.Name}", T5Fixture.GradientScale);
        }
    }

    [Theory]
    [InlineData("v10")]
    [InlineData("v11")]
    public void Without_a_decoder_mask_the_decoder_is_only_causal(string name)
    {
        var fx = T5Fixture.Load(name);
        using var model = T5ForConditionalGeneration.FromPretrained(fx.Directory);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        ModelOutput output = model.forward(new ModelBatch { InputIds = fx.InputIds(), AttentionMask = fx.AttentionMask(), Labels = fx.Labels() });
        T5Fixture.AssertClose(fx.Doubles("logits_no_decoder_mask"), T5Fixture.Values(output.Logits), $"{name} logits");
        T5Fixture.AssertClose([fx.Json.GetProperty("loss_no_decoder_mask").GetDouble()], T5Fixture.Values(output.Loss!), $"{name} loss");
    }

    [Fact]
    public void Labels_are_shifted_right_with_the_start_token_and_minus_100_becomes_pad()
    {
        var fx = T5Fixture.Load("v10");
        using var scope = NewDisposeScope();
        Tensor shifted = T5ForConditionalGeneration.ShiftRight(fx.Labels(), decoderStartTokenId: 0, padTokenId: 0);
        Assert.Equal(fx.Doubles("decoder_input_ids"), T5Fixture.Values(shifted));
    }

    [Fact]
    public void Explicit_decoder_inputs_give_the_same_logits_as_shifted_labels()
    {
        var fx = T5Fixture.Load("v11");
        using var model = T5ForConditionalGeneration.FromPretrained(fx.Directory);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        ModelOutput output = model.forward(new ModelBatch
        {
            InputIds = fx.InputIds(),
            AttentionMask = fx.AttentionMask(),
            DecoderInputIds = fx.DecoderInputIds(),
            DecoderAttentionMask = fx.DecoderAttentionMask(),
        });
        Assert.Null(output.Loss);
        T5Fixture.AssertClose(fx.Doubles("logits"), T5Fixture.Values(output.Logits), "logits");
    }

    [Fact]
    public void A_batch_without_decoder_inputs_or_labels_is_a_user_error()
    {
        var fx = T5Fixture.Load("v10");
        using var model = T5ForConditionalGeneration.FromPretrained(fx.Directory);
        using var scope = NewDisposeScope();
        var e = Assert.Throws<Migu.Core.MiguUserException>(() => model.forward(new ModelBatch { InputIds = fx.InputIds() }));
        Assert.Contains("DecoderInputIds", e.Message, StringComparison.Ordinal);
    }
}
