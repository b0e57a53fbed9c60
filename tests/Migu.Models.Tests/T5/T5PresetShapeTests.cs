using System.Text.Json;
using Migu.Models.T5;
using static TorchSharp.torch;

namespace Migu.Models.Tests.T5;

/// <summary>Full-size presets built on the meta device against the names and shapes transformers 5.17 builds.</summary>
public class T5PresetShapeTests
{
    [Theory]
    [InlineData("t5-large")]
    [InlineData("flan-t5-small")]
    public void Parameter_names_and_shapes_equal_transformers(string preset)
    {
        JsonElement keys = JsonDocument.Parse(File.ReadAllText(Path.Combine(T5Fixture.Root, "keys.json"))).RootElement.GetProperty(preset);
        var expected = keys.GetProperty("parameters").EnumerateObject()
            .ToDictionary(p => p.Name, p => p.Value.EnumerateArray().Select(e => e.GetInt64()).ToArray());
        T5Config config = T5Presets.All[preset];
        if (!config.TieWordEmbeddings)
        {
            // transformers 5.17 ties every T5 head when it builds from a config; published FLAN checkpoints carry their own.
            expected["lm_head.weight"] = [config.VocabSize, config.DModel];
        }

        using var model = new T5ForConditionalGeneration(config, META);
        var actual = model.named_parameters().ToDictionary(p => p.name, p => p.parameter.shape);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, shape) in expected)
        {
            Assert.Equal(shape, actual[name]);
        }

        // Every name we have is one transformers' state dict has too.
        var stateDict = keys.GetProperty("state_dict").EnumerateArray().Select(e => e.GetString()).ToHashSet();
        Assert.All(actual.Keys, k => Assert.Contains(k, stateDict));
    }

    [Fact]
    public void Presets_have_the_published_sizes()
    {
        Assert.Equal(["flan-t5-base", "flan-t5-small", "t5-base", "t5-large", "t5-mini", "t5-small", "t5-tiny"], T5Presets.All.Keys.Order());
        T5Config small = T5Presets.All["t5-small"];
        Assert.Equal((512L, 2048L, 6L, 8L, 32128L), (small.DModel, small.DFf, small.NumLayers, small.NumHeads, small.VocabSize));
        T5Config flanBase = T5Presets.All["flan-t5-base"];
        Assert.Equal((768L, 2048L, 12L, 12L, false, "gated-gelu"), (flanBase.DModel, flanBase.DFf, flanBase.NumLayers, flanBase.NumHeads, flanBase.TieWordEmbeddings, flanBase.FeedForwardProj));
        Assert.Throws<Migu.Core.MiguUserException>(() => T5Presets.Get("t5-huge"));
    }
}
