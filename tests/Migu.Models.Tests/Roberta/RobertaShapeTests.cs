using System.Text.Json;
using Migu.Models.Checkpoints;
using Migu.Models.Roberta;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Tests.Roberta;

/// <summary>roberta-base built on the meta device against transformers' parameter names and shapes.</summary>
public class RobertaShapeTests
{
    [Fact]
    public void Roberta_base_on_meta_has_transformers_parameter_names_and_shapes()
    {
        using var model = new RobertaForMaskedLM(RobertaPresets.All["roberta-base"], new Device(DeviceType.META));
        var actual = StateDictBinder.Targets(model).ToDictionary(t => t.Name, t => t.Tensor.shape, StringComparer.Ordinal);

        // transformers' parameters without duplicates: the tied decoder appears only as the word embedding.
        JsonElement expected = RobertaFixtures.BaseShapes.GetProperty("parameters");
        Assert.Equal(expected.EnumerateObject().Select(p => p.Name).Order(), actual.Keys.Order());
        foreach (JsonProperty p in expected.EnumerateObject())
        {
            Assert.True(p.Value.EnumerateArray().Select(e => e.GetInt64()).SequenceEqual(actual[p.Name]), $"shape of {p.Name}");
        }

        Assert.All(actual.Keys, name => Assert.Equal(DeviceType.META, model.named_parameters().First(p => p.name == name).parameter.device_type));
    }

    [Fact]
    public void Tied_decoder_keys_of_transformers_state_dict_are_aliases()
    {
        using var model = new RobertaForMaskedLM(RobertaPresets.Tiny);
        JsonElement stateDict = RobertaFixtures.BaseShapes.GetProperty("state_dict");
        JsonElement parameters = RobertaFixtures.BaseShapes.GetProperty("parameters");
        var extra = stateDict.EnumerateObject().Select(p => p.Name).Where(n => !parameters.TryGetProperty(n, out _)).Order().ToList();

        Assert.Equal(["lm_head.decoder.bias", "lm_head.decoder.weight"], extra);
        var aliased = model.CheckpointAliases!.Values.SelectMany(v => v).Order().ToList();
        Assert.Equal(extra, aliased);
    }
}
