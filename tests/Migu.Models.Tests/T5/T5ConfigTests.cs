using System.Text.Json;
using Migu.Models.Checkpoints;
using Migu.Models.T5;

namespace Migu.Models.Tests.T5;

/// <summary>Reading and writing transformers' T5 config.json.</summary>
public class T5ConfigTests
{
    [Fact]
    public void A_transformers_config_is_read_field_by_field()
    {
        T5Config c = T5Config.FromConfig(ConfigReader.FromFile(Path.Combine(T5Fixture.Root, "v11", "config.json")));
        Assert.Equal(
            new T5Config
            {
                VocabSize = 64, DModel = 16, DKv = 6, DFf = 24, NumLayers = 3, NumDecoderLayers = 2, NumHeads = 3,
                RelativeAttentionNumBuckets = 8, RelativeAttentionMaxDistance = 16, DropoutRate = 0.1, LayerNormEpsilon = 1e-6,
                FeedForwardProj = "gated-gelu", TieWordEmbeddings = true, ScaleDecoderOutputs = false,
                PadTokenId = 0, EosTokenId = 1, DecoderStartTokenId = 0,
            },
            c);
        Assert.True(c.IsGatedAct);
        Assert.Equal(T5Activation.GeluTanh, c.Activation);
        Assert.False(c.ScalesDecoderOutput);
    }

    [Fact]
    public void Without_scale_decoder_outputs_a_tied_config_scales_and_an_untied_one_does_not()
    {
        T5Config tied = T5Config.FromConfig(ConfigReader.FromText("""{"vocab_size": 10}""", "t"));
        T5Config untied = T5Config.FromConfig(ConfigReader.FromText("""{"vocab_size": 10, "tie_word_embeddings": false}""", "u"));
        Assert.True(tied.ScalesDecoderOutput);
        Assert.False(untied.ScalesDecoderOutput);
        Assert.Equal(6, tied.NumDecoderLayers);
    }

    [Fact]
    public void ToJson_has_every_field_transformers_wrote_with_the_same_value()
    {
        string path = Path.Combine(T5Fixture.Root, "v10", "config.json");
        string ours = T5Config.FromConfig(ConfigReader.FromFile(path)).ToJson();
        using var theirs = JsonDocument.Parse(File.ReadAllText(path));
        using var mine = JsonDocument.Parse(ours);
        string[] bookkeeping = ["dtype", "transformers_version", "classifier_dropout", "is_decoder"];
        foreach (JsonProperty p in theirs.RootElement.EnumerateObject().Where(p => !bookkeeping.Contains(p.Name)))
        {
            Assert.True(mine.RootElement.TryGetProperty(p.Name, out JsonElement value), $"ToJson lacks '{p.Name}'");
            Assert.True(JsonElement.DeepEquals(p.Value, value) || (p.Value.ValueKind == JsonValueKind.Number && p.Value.GetDouble() == value.GetDouble()),
                $"'{p.Name}': {value}, transformers wrote {p.Value}");
        }
    }

    [Theory]
    [InlineData("relu", false, T5Activation.Relu)]
    [InlineData("gated-gelu", true, T5Activation.GeluTanh)]
    [InlineData("gelu", false, T5Activation.Gelu)]
    [InlineData("gated-silu", true, T5Activation.Silu)]
    [InlineData("gated-gelu_new", true, T5Activation.GeluTanh)]
    public void Feed_forward_proj_names_gating_and_activation(string value, bool gated, T5Activation activation)
    {
        var c = new T5Config { VocabSize = 8, FeedForwardProj = value };
        Assert.Equal(gated, c.IsGatedAct);
        Assert.Equal(activation, c.Activation);
    }

    [Theory]
    [InlineData("gated-tanh")]
    [InlineData("double-relu")]
    [InlineData("gated-gelu-x")]
    public void An_unknown_feed_forward_proj_names_the_file(string value)
    {
        var e = Assert.Throws<CheckpointException>(() =>
            T5Config.FromConfig(ConfigReader.FromText($$"""{"vocab_size": 10, "feed_forward_proj": "{{value}}"}""", "cfg.json")));
        Assert.Contains("cfg.json", e.Message, StringComparison.Ordinal);
        Assert.Contains(value.Split('-')[^1], e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_config_of_another_model_type_is_refused()
    {
        var e = Assert.Throws<CheckpointException>(() => T5Config.FromConfig(ConfigReader.FromText("""{"vocab_size": 10, "model_type": "llama"}""", "c.json")));
        Assert.Contains("llama", e.Message, StringComparison.Ordinal);
    }
}
