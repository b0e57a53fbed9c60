using Migu.Models.Checkpoints;

namespace Migu.Models.Tests.Checkpoints;

public class ConfigReaderTests
{
    private static ConfigReader Read(string json) => ConfigReader.FromText(json, "config.json");

    [Fact]
    public void Alternative_and_nested_spellings_are_found_in_order()
    {
        var top = Read("""{"rope_theta": 10000.0}""");
        var nested = Read("""{"rope_parameters": {"rope_theta": 500000.0, "rope_type": "llama3"}}""");

        Assert.Equal(10000.0, top.Double(1, "rope_theta", "rope_parameters.rope_theta"));
        Assert.Equal(500000.0, nested.Double(1, "rope_theta", "rope_parameters.rope_theta"));
        Assert.Equal("llama3", nested.String("rope_scaling.rope_type", "rope_parameters.rope_type"));
        Assert.Equal(7, Read("{}").Long(7, "n_layer", "num_hidden_layers"));
    }

    [Fact]
    public void Eos_may_be_a_number_or_a_list()
    {
        Assert.Equal(2, Read("""{"eos_token_id": 2}""").LongOrFirst("eos_token_id"));
        Assert.Equal(128001, Read("""{"eos_token_id": [128001, 128009]}""").LongOrFirst("eos_token_id"));
        Assert.Null(Read("""{"eos_token_id": null}""").LongOrFirst("eos_token_id"));
    }

    [Fact]
    public void Missing_required_keys_wrong_types_and_bad_json_are_named()
    {
        var e1 = Assert.Throws<CheckpointException>(() => Read("{}").RequireLong("d_model", "hidden_size"));
        Assert.Equal("config.json: missing required key 'd_model' (or 'hidden_size')", e1.Message);

        var e2 = Assert.Throws<CheckpointException>(() => Read("""{"d_model": "wide"}""").RequireLong("d_model"));
        Assert.Contains("'d_model' has the wrong type", e2.Message, StringComparison.Ordinal);

        Assert.Throws<CheckpointException>(() => Read("{ nope"));
        Assert.Throws<CheckpointException>(() => Read("[1, 2]"));
        Assert.Throws<CheckpointException>(() => ConfigReader.FromFile("/nonexistent/config.json"));
    }
}
