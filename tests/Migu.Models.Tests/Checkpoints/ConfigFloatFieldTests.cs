using System.Text.Json;
using Migu.Models.Llama;
using Migu.Models.Roberta;
using Migu.Models.T5;

namespace Migu.Models.Tests.Checkpoints;

/// <summary>
/// transformers 5 rejects an integer where a config declares a float (a T5 checkpoint written with
/// <c>"initializer_factor": 1</c> did not load there), so every float field we write must read as a
/// float: a decimal point or an exponent, even when its value is whole.
/// </summary>
public sealed class ConfigFloatFieldTests
{
    private static readonly string[] T5Floats = ["dropout_rate", "layer_norm_epsilon", "initializer_factor"];
    private static readonly string[] RobertaFloats = ["hidden_dropout_prob", "attention_probs_dropout_prob", "initializer_range", "layer_norm_eps", "classifier_dropout"];
    private static readonly string[] LlamaFloats = ["initializer_range", "rms_norm_eps", "attention_dropout"];

    [Fact]
    public void Whole_valued_floats_are_written_as_floats_in_every_family()
    {
        AssertFloats(T5Presets.All["t5-tiny"] with { DropoutRate = 0 }, c => c.ToJson(), T5Floats);
        AssertFloats(RobertaPresets.All["roberta-tiny"] with { HiddenDropoutProb = 0, ClassifierDropout = 0 }, c => c.ToJson(), RobertaFloats);
        string llama = (LlamaPresets.All["llama-tiny"] with { RopeTheta = 10000, AttentionDropout = 0 }).ToJson();
        AssertFloats(llama, LlamaFloats);
        using JsonDocument doc = JsonDocument.Parse(llama);
        Assert.Equal("10000.0", doc.RootElement.GetProperty("rope_parameters").GetProperty("rope_theta").GetRawText());
    }

    [Fact]
    public void Floats_keep_their_value_when_read_back()
    {
        T5Config t5 = T5Presets.All["t5-tiny"] with { DropoutRate = 0 };
        using JsonDocument doc = JsonDocument.Parse(t5.ToJson());
        Assert.Equal("0.0", doc.RootElement.GetProperty("dropout_rate").GetRawText());
        Assert.Equal("1.0", doc.RootElement.GetProperty("initializer_factor").GetRawText());
        Assert.Equal(t5.LayerNormEpsilon, doc.RootElement.GetProperty("layer_norm_epsilon").GetDouble());
    }

    private static void AssertFloats<T>(T config, Func<T, string> toJson, string[] fields) => AssertFloats(toJson(config), fields);

    private static void AssertFloats(string json, string[] fields)
    {
        using JsonDocument doc = JsonDocument.Parse(json);
        foreach (string field in fields)
        {
            string raw = doc.RootElement.GetProperty(field).GetRawText();
            Assert.True(raw.Contains('.', StringComparison.Ordinal) || raw.Contains('E', StringComparison.OrdinalIgnoreCase), $"{field} is written as {raw}");
        }
    }
}
