using Migu.Models.Llama;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Tests.Llama;

public class LlamaPresetTests
{
    [Theory]
    [InlineData("llama-160m")]
    [InlineData("llama-1b-like")]
    public void Full_size_presets_on_the_meta_device_have_transformers_names_and_shapes(string name)
    {
        var expected = LlamaFixture.Preset(name).GetProperty("shapes").EnumerateObject()
            .ToDictionary(p => p.Name, p => LlamaFixture.Longs(p.Value));
        using var model = new LlamaForCausalLM(LlamaPresets.All[name], torch.META);
        var actual = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (key, shape) in expected)
        {
            Assert.True(shape.SequenceEqual(actual[key]), $"{key}: [{string.Join(", ", actual[key])}] vs transformers [{string.Join(", ", shape)}]");
        }
    }

    [Fact]
    public void The_tiny_preset_runs_forward_and_generation_on_the_cpu()
    {
        LlamaConfig config = LlamaPresets.All["llama-tiny"];
        Assert.Equal(2, config.NumKeyValueHeads);
        using var model = new LlamaForCausalLM(config);
        model.eval();
        using var scope = NewDisposeScope();
        Tensor ids = randint(3, config.VocabSize, [2, 6], dtype: ScalarType.Int64);
        ModelOutput output = model.call(new ModelBatch { InputIds = ids, Labels = ids });
        Assert.Equal([2L, 6L, config.VocabSize], output.Logits.shape);
        Assert.True(float.IsFinite(output.Loss!.item<float>()));
        Tensor generated = model.Generate(ids, null, 4, eosTokenIds: [], padTokenId: null);
        Assert.Equal([2L, 10L], generated.shape);
    }
}
