using Migu.Core.Lora;
using Migu.Models.Adapters;
using Migu.Models.Checkpoints;
using static TorchSharp.torch;

namespace Migu.Models.Tests.Adapters;

/// <summary>
/// Adapters saved by PEFT (tools/peft_lora_fixture.py) load into our models and give PEFT's logits,
/// with the adapter applied in forward and merged into the weights.
/// </summary>
public class PeftParityTests
{
    [PeftFixtureFact("llama_gqa")]
    public void Llama_adapter_saved_by_PEFT_gives_PEFT_s_logits_unmerged_and_merged() => Check("llama_gqa");

    [PeftFixtureFact("llama_gqa_rslora")]
    public void Rank_stabilised_adapter_with_a_regex_target_gives_PEFT_s_logits() => Check("llama_gqa_rslora");

    [PeftFixtureFact("t5_v11")]
    public void T5_adapter_saved_by_PEFT_gives_PEFT_s_logits_unmerged_and_merged() => Check("t5_v11");

    [PeftFixtureFact("llama_gqa")]
    public void The_PEFT_config_is_read_as_PEFT_wrote_it()
    {
        PeftLoraConfig config = PeftLoraConfig.Read(Path.Combine(PeftFixture.Peft("llama_gqa").Directory, PeftAdapterFiles.ConfigFile));
        Assert.Equal(4, config.Rank);
        Assert.Equal(8, config.Alpha);
        Assert.Equal(0, config.Dropout);
        Assert.False(config.UseRsLora);
        Assert.Equal("CAUSAL_LM", config.TaskType);
        Assert.Equal(["down_proj", "q_proj", "v_proj"], config.TargetModules.Names!.Order(StringComparer.Ordinal));
    }

    [PeftFixtureFact("llama_gqa")]
    public void Saving_a_PEFT_adapter_again_writes_the_same_tensors_under_the_same_keys()
    {
        var fx = PeftFixture.Peft("llama_gqa");
        using var model = fx.LoadBase();
        using var lora = PeftAdapterFiles.Attach(model, fx.Directory, "task");
        string again = Path.Combine(Path.GetTempPath(), "migu-peft-resave-" + Guid.NewGuid().ToString("N"));
        try
        {
            PeftAdapterFiles.Save(lora, "task", again);
            var original = StateDictFiles.LoadSafeTensorsFile(Path.Combine(fx.Directory, PeftAdapterFiles.WeightsFile));
            var ours = StateDictFiles.LoadSafeTensorsFile(Path.Combine(again, PeftAdapterFiles.WeightsFile));
            Assert.Equal(original.Keys.Order(StringComparer.Ordinal), ours.Keys.Order(StringComparer.Ordinal));
            foreach (var (key, t) in original)
            {
                Assert.True(AdapterTestKit.Identical(t, ours[key]), key);
            }
        }
        finally
        {
            Directory.Delete(again, recursive: true);
        }
    }

    private static void Check(string name)
    {
        var fx = PeftFixture.Peft(name);
        using var model = fx.LoadBase();
        using var lora = PeftAdapterFiles.Attach(model, fx.Directory, "task");
        model.eval();
        using (var scope = NewDisposeScope())
        {
            Tensor logits = model.call(fx.Batch()).Logits;
            Assert.Equal(fx.LogitsShape, logits.shape);
            PeftFixture.AssertClose(fx.Doubles("logits"), PeftFixture.Values(logits), $"{name} logits");
        }

        lora.SetTrainable(null);
        lora.Merge("task");
        using (var scope = NewDisposeScope())
        {
            Tensor merged = model.call(fx.Batch()).Logits;
            PeftFixture.AssertClose(fx.Doubles("merged_logits"), PeftFixture.Values(merged), $"{name} merged logits");
        }
    }
}
