using Migu.Models.Checkpoints;
using Migu.Models.Llama;

namespace Migu.Models.Tests.Llama;

public class LlamaConfigTests
{
    [Fact]
    public void A_transformers_config_with_rope_parameters_and_an_eos_list_is_read()
    {
        string path = Path.Combine(LlamaFixture.ModelDirectory("tied_llama3"), "config.json");
        LlamaConfig config = LlamaConfig.FromConfig(ConfigReader.FromFile(path));
        Assert.Equal(16, config.HeadDim);
        Assert.Equal(2, config.NumKeyValueHeads);
        Assert.Equal(LlamaRopeType.Llama3, config.RopeType);
        Assert.Equal(8.0, config.RopeFactor);
        Assert.Equal(128, config.RopeOriginalMaxPositionEmbeddings);
        Assert.True(config.TieWordEmbeddings);
        Assert.True(config.AttentionBias);
        Assert.True(config.MlpBias);
        Assert.Equal([33L, 95L], config.EosTokenIds);
        Assert.Equal(0, config.GenerationPadTokenId);
        Assert.Equal(1e-5, config.RmsNormEps);
    }

    [Fact]
    public void Legacy_rope_scaling_and_top_level_rope_theta_are_read()
    {
        const string json = """
            {"model_type": "llama", "vocab_size": 100, "hidden_size": 64, "intermediate_size": 96,
             "num_hidden_layers": 1, "num_attention_heads": 4, "rope_theta": 500000.0,
             "rope_scaling": {"type": "linear", "factor": 2.0}, "eos_token_id": 7, "pad_token_id": null}
            """;
        LlamaConfig config = LlamaConfig.FromConfig(ConfigReader.FromText(json, "legacy.json"));
        Assert.Equal(500000.0, config.RopeTheta);
        Assert.Equal(LlamaRopeType.Linear, config.RopeType);
        Assert.Equal(2.0, config.RopeFactor);
        Assert.Equal(4, config.NumKeyValueHeads);
        Assert.Equal(16, config.HeadDim);
        Assert.Equal([7L], config.EosTokenIds);
        Assert.Null(config.PadTokenId);
        Assert.Equal(7, config.GenerationPadTokenId);
    }

    [Theory]
    [InlineData("gqa")]
    [InlineData("tied_llama3")]
    public void ToJson_reads_back_as_the_same_config(string variant)
    {
        LlamaConfig config = LlamaConfig.FromConfig(ConfigReader.FromFile(Path.Combine(LlamaFixture.ModelDirectory(variant), "config.json")));
        LlamaConfig again = LlamaConfig.FromConfig(ConfigReader.FromText(config.ToJson(), "written"));
        Assert.Equal(config, again);
        Assert.Equal(config.EosTokenIds, again.EosTokenIds);
        Assert.Contains("\"LlamaForCausalLM\"", config.ToJson(), StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("llama-160m")]
    [InlineData("llama-1b-like")]
    public void Presets_equal_what_transformers_fills_in_for_the_reference_shapes(string name)
    {
        string json = LlamaFixture.Preset(name).GetProperty("config").GetRawText();
        Assert.Equal(LlamaConfig.FromConfig(ConfigReader.FromText(json, name)), LlamaPresets.All[name]);
    }

    [Theory]
    [InlineData("\"rope_scaling\": {\"rope_type\": \"yarn\", \"factor\": 4.0}", "rope type 'yarn'")]
    [InlineData("\"num_key_value_heads\": 3", "num_key_value_heads 3")]
    [InlineData("\"model_type\": \"mistral\"", "model_type is 'mistral'")]
    public void A_config_that_does_not_fit_is_refused_naming_the_file(string extra, string message)
    {
        string json = "{\"vocab_size\": 10, \"hidden_size\": 8, \"intermediate_size\": 8, \"num_hidden_layers\": 1, \"num_attention_heads\": 2, " + extra + "}";
        var e = Assert.Throws<CheckpointException>(() => LlamaConfig.FromConfig(ConfigReader.FromText(json, "bad.json")));
        Assert.Contains("bad.json", e.Message, StringComparison.Ordinal);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }
}
