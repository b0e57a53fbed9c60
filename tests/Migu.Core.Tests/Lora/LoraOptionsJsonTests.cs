using Migu.Core.Lora;

namespace Migu.Core.Tests.Lora;

public class LoraOptionsJsonTests
{
    [Fact]
    public void Options_round_trip_through_json_without_the_derived_scaling()
    {
        var options = new LoraOptions { Targets = "q,k,v,o", FreezeModel = false, Adapter = new LoraAdapterConfig { Rank = 16, Alpha = 8, Dropout = 0.1, UseRsLora = true } };
        string json = System.Text.Json.JsonSerializer.Serialize(options);
        Assert.DoesNotContain("Scaling", json, StringComparison.Ordinal);
        Assert.Equal(options, System.Text.Json.JsonSerializer.Deserialize<LoraOptions>(json));
        Assert.Equal(2.0, options.Adapter.Scaling); // 8 / √16
    }
}
