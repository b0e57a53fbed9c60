using System.Text.Json;
using Migu.Core.Lora;
using Migu.Models.Adapters;
using Migu.Models.Checkpoints;
using static TorchSharp.torch;

namespace Migu.Models.Tests.Adapters;

/// <summary>Save → load through PEFT's file layout is exact, and the config says what PEFT needs.</summary>
public class PeftRoundTripTests
{
    [Fact]
    public void Save_then_attach_on_a_fresh_model_gives_bit_identical_adapters_and_logits()
    {
        using var folder = new AdapterTestKit.TempFolder();
        using var model = ModelLoader.Load(AdapterTestKit.LlamaDirectory);
        using var lora = LoraAdapters.Attach(model, new LoraOptions { Targets = "q,v,ffn", Adapter = new LoraAdapterConfig { Rank = 3, Alpha = 7.5, Dropout = 0.1 } });
        lora.AddAdapter("task", seed: 5);
        AdapterTestKit.Randomize(lora, "task", seed: 6);
        var fx = PeftFixtureInput.Llama();
        using var before = model.call(fx).Logits;

        PeftAdapterFiles.Save(lora, "task", folder.Path, baseModelNameOrPath: "llama_gqa");

        Assert.Equal([PeftAdapterFiles.ConfigFile, PeftAdapterFiles.WeightsFile], Directory.GetFiles(folder.Path).Select(Path.GetFileName).Order(StringComparer.Ordinal));
        using var fresh = ModelLoader.Load(AdapterTestKit.LlamaDirectory);
        using var loaded = PeftAdapterFiles.Attach(fresh, folder.Path, "again");
        Assert.Equal(lora.Layers.Select(l => l.ModuleName), loaded.Layers.Select(l => l.ModuleName));
        Assert.Equal(lora.Config("task"), loaded.Config("again"));
        var saved = lora.Weights("task");
        var read = loaded.Weights("again");
        for (int i = 0; i < saved.Count; i++)
        {
            Assert.True(AdapterTestKit.Identical(saved[i].A, read[i].A), saved[i].Module + " A");
            Assert.True(AdapterTestKit.Identical(saved[i].B, read[i].B), saved[i].Module + " B");
        }

        using var after = fresh.call(fx).Logits;
        Assert.True(AdapterTestKit.Identical(before, after), "logits after the round trip");
        using var plain = ModelLoader.Load(AdapterTestKit.LlamaDirectory);
        using var baseLogits = plain.call(fx).Logits;
        Assert.False(baseLogits.allclose(after, rtol: 1e-3, atol: 1e-3), "the adapter changes the logits");
    }

    [Fact]
    public void The_config_has_PEFT_s_fields_with_leaf_names_when_they_select_exactly_the_targets()
    {
        using var folder = new AdapterTestKit.TempFolder();
        using var model = ModelLoader.Load(AdapterTestKit.T5Directory);
        using var lora = LoraAdapters.Attach(model, new LoraOptions { Targets = "q,v" });
        lora.AddAdapter("task", seed: 1);

        PeftAdapterFiles.Save(lora, "task", folder.Path, baseModelNameOrPath: "google/t5-v1_1-tiny");

        using var doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(folder.Path, PeftAdapterFiles.ConfigFile)));
        JsonElement c = doc.RootElement;
        Assert.Equal("LORA", c.GetProperty("peft_type").GetString());
        Assert.Equal("SEQ_2_SEQ_LM", c.GetProperty("task_type").GetString());
        Assert.Equal(8, c.GetProperty("r").GetInt32());
        Assert.Equal("32", c.GetProperty("lora_alpha").GetRawText()); // an integer, PEFT's type
        Assert.Equal(0.05, c.GetProperty("lora_dropout").GetDouble());
        Assert.Equal(["q", "v"], c.GetProperty("target_modules").EnumerateArray().Select(e => e.GetString()));
        Assert.Equal("none", c.GetProperty("bias").GetString());
        Assert.False(c.GetProperty("fan_in_fan_out").GetBoolean());
        Assert.False(c.GetProperty("use_rslora").GetBoolean());
        Assert.False(c.GetProperty("use_dora").GetBoolean());
        Assert.True(c.GetProperty("inference_mode").GetBoolean());
        Assert.True(c.GetProperty("init_lora_weights").GetBoolean());
        Assert.Equal(JsonValueKind.Null, c.GetProperty("modules_to_save").ValueKind);
        Assert.Equal("google/t5-v1_1-tiny", c.GetProperty("base_model_name_or_path").GetString());
        var keys = StateDictFiles.LoadSafeTensorsFile(Path.Combine(folder.Path, PeftAdapterFiles.WeightsFile));
        Assert.Contains("base_model.model.encoder.block.0.layer.0.SelfAttention.q.lora_A.weight", keys.Keys);
        Assert.Contains("base_model.model.decoder.block.1.layer.1.EncDecAttention.v.lora_B.weight", keys.Keys);
        Assert.Equal(2 * lora.Layers.Count, keys.Count);
        Assert.Equal([8L, 16], keys["base_model.model.encoder.block.0.layer.0.SelfAttention.q.lora_A.weight"].shape);
        Assert.Equal([18L, 8], keys["base_model.model.encoder.block.0.layer.0.SelfAttention.q.lora_B.weight"].shape); // d_out = heads · d_kv
    }

    [Fact]
    public void A_selection_that_leaf_names_cannot_express_is_written_as_full_module_names_and_loads_back()
    {
        using var folder = new AdapterTestKit.TempFolder();
        using var model = ModelLoader.Load(AdapterTestKit.LlamaDirectory);
        using var lora = LoraAdapters.Attach(model, new LoraOptions { Targets = @"re:^model\.layers\.0\.self_attn\.[qv]_proj$" });
        lora.AddAdapter("task", seed: 1);
        PeftAdapterFiles.Save(lora, "task", folder.Path);

        PeftLoraConfig config = PeftLoraConfig.Read(Path.Combine(folder.Path, PeftAdapterFiles.ConfigFile));
        Assert.Equal(["model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj"], config.TargetModules.Names);
        using var fresh = ModelLoader.Load(AdapterTestKit.LlamaDirectory);
        using var loaded = PeftAdapterFiles.Attach(fresh, folder.Path);
        Assert.Equal(["model.layers.0.self_attn.q_proj", "model.layers.0.self_attn.v_proj"], loaded.Layers.Select(l => l.ModuleName));
        Assert.Equal(["default"], loaded.AdapterNames);
    }

    [Fact]
    public void Rank_stabilised_scaling_round_trips_and_scales_by_alpha_over_root_r()
    {
        using var folder = new AdapterTestKit.TempFolder();
        using var model = ModelLoader.Load(AdapterTestKit.LlamaDirectory);
        using var lora = LoraAdapters.Attach(model, new LoraOptions { Targets = "q", Adapter = new LoraAdapterConfig { Rank = 4, Alpha = 6, UseRsLora = true } });
        lora.AddAdapter("task", seed: 1);
        PeftAdapterFiles.Save(lora, "task", folder.Path);
        using var fresh = ModelLoader.Load(AdapterTestKit.LlamaDirectory);
        using var loaded = PeftAdapterFiles.Attach(fresh, folder.Path);
        Assert.True(loaded.Config("default").UseRsLora);
        Assert.Equal(3.0, loaded.Layers[0]["default"].Scaling); // 6 / √4
    }

    [Fact]
    public void Task_types_follow_the_model_class()
    {
        using var t5 = ModelLoader.Load("t5-tiny");
        using var llama = ModelLoader.Load("llama-tiny");
        using var mlm = ModelLoader.Load(Path.Combine(PeftFixture.FixturesRoot, "roberta", "mlm"));
        using var classifier = ModelLoader.Load(Path.Combine(PeftFixture.FixturesRoot, "roberta", "classifier"));
        Assert.Equal("SEQ_2_SEQ_LM", PeftAdapterFiles.TaskTypeOf(t5));
        Assert.Equal("CAUSAL_LM", PeftAdapterFiles.TaskTypeOf(llama));
        Assert.Null(PeftAdapterFiles.TaskTypeOf(mlm));
        Assert.Equal("SEQ_CLS", PeftAdapterFiles.TaskTypeOf(classifier));
    }

    [Fact]
    public void Loading_into_an_existing_attachment_adds_an_IncLoRA_adapter()
    {
        using var folder = new AdapterTestKit.TempFolder();
        using var model = ModelLoader.Load(AdapterTestKit.LlamaDirectory);
        using var lora = LoraAdapters.Attach(model, new LoraOptions { Targets = "q,v" });
        lora.AddAdapter("first", seed: 1);
        AdapterTestKit.Randomize(lora, "first", seed: 2);
        PeftAdapterFiles.Save(lora, "first", folder.Path);

        PeftAdapterFiles.Load(lora, folder.Path, "copy");

        Assert.Equal(["first", "copy"], lora.ActiveAdapters);
        Assert.Equal("copy", lora.TrainableAdapter);
        Assert.True(AdapterTestKit.Identical(lora.Weights("first")[3].B, lora.Weights("copy")[3].B));
    }
}

/// <summary>A fixed right-padded batch for the llama_gqa fixture model (vocabulary 128).</summary>
internal static class PeftFixtureInput
{
    public static ModelBatch Llama() => new()
    {
        InputIds = tensor(new long[] { 1, 17, 5, 45, 99, 23, 1, 88, 12, 101, 0, 0 }).reshape(2, 6),
        AttentionMask = tensor(new long[] { 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 0, 0 }).reshape(2, 6),
    };
}
