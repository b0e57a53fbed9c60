using System.Text.Json.Nodes;
using Migu.Core;
using Migu.Core.Lora;
using Migu.Models.Adapters;
using Migu.Models.Checkpoints;
using static TorchSharp.torch;

namespace Migu.Models.Tests.Adapters;

/// <summary>Adapter folders that do not fit are refused with the file and key named, and the model is left as it was.</summary>
public class PeftLoadErrorTests
{
    /// <summary>A valid Llama adapter on q and v (layers 0 and 1) in a temp folder, to be spoiled by each test.</summary>
    private static AdapterTestKit.TempFolder ValidAdapter()
    {
        var folder = new AdapterTestKit.TempFolder();
        using var model = ModelLoader.Load(AdapterTestKit.LlamaDirectory);
        using var lora = LoraAdapters.Attach(model, new LoraOptions { Targets = "q,v", Adapter = new LoraAdapterConfig { Rank = 2, Alpha = 4 } });
        lora.AddAdapter("task", seed: 1);
        PeftAdapterFiles.Save(lora, "task", folder.Path);
        return folder;
    }

    private static void EditConfig(string folder, Action<JsonObject> edit)
    {
        string path = Path.Combine(folder, PeftAdapterFiles.ConfigFile);
        var json = JsonNode.Parse(File.ReadAllText(path))!.AsObject();
        edit(json);
        File.WriteAllText(path, json.ToJsonString());
    }

    private static void EditWeights(string folder, Action<Dictionary<string, Tensor>> edit)
    {
        string path = Path.Combine(folder, PeftAdapterFiles.WeightsFile);
        var state = StateDictFiles.LoadSafeTensorsFile(path);
        edit(state);
        StateDictFiles.SaveSafeTensorsFile(path, state);
    }

    /// <summary>Attaching from <paramref name="folder"/> fails with a CheckpointException (or a user error) and leaves a fresh model untouched.</summary>
    private static string Refused(string folder)
    {
        using var model = ModelLoader.Load(AdapterTestKit.LlamaDirectory);
        var e = Assert.ThrowsAny<MiguUserException>(() => PeftAdapterFiles.Attach(model, folder));
        Assert.All(model.modules().OfType<Projection>(), p => Assert.Null(p.Lora));
        Assert.All(model.parameters(), p => Assert.True(p.requires_grad));
        return e.Message;
    }

    [Theory]
    [InlineData("use_dora", "true", "DoRA adapters are not supported")]
    [InlineData("bias", "\"lora_only\"", "only bias 'none'")]
    [InlineData("fan_in_fan_out", "true", "weight layout")]
    [InlineData("modules_to_save", "[\"classifier\"]", "modules_to_save")]
    [InlineData("rank_pattern", "{\"q_proj\": 8}", "per-module ranks")]
    [InlineData("layers_to_transform", "[0]", "layer filters")]
    [InlineData("init_lora_weights", "\"pissa\"", "changes the base weights")]
    [InlineData("peft_type", "\"IA3\"", "peft_type is 'IA3', expected 'LORA'")]
    [InlineData("target_modules", "\"all-linear\"", "'all-linear' is not supported")]
    [InlineData("r", "0", "'r' must be a positive integer")]
    [InlineData("lora_dropout", "1.5", "dropout must lie in [0, 1)")]
    public void Unsupported_or_invalid_config_values_are_refused_naming_the_key(string key, string json, string expected)
    {
        using var folder = ValidAdapter();
        EditConfig(folder.Path, c => c[key] = JsonNode.Parse(json));
        string message = Refused(folder.Path);
        Assert.Contains(expected, message, StringComparison.Ordinal);
        Assert.Contains(PeftAdapterFiles.ConfigFile, message, StringComparison.Ordinal);
    }

    [Fact]
    public void Targets_that_select_nothing_or_a_module_that_is_not_linear_are_refused()
    {
        using var folder = ValidAdapter();
        EditConfig(folder.Path, c => c["target_modules"] = new JsonArray("q"));
        Assert.Contains("select no module of this model", Refused(folder.Path), StringComparison.Ordinal);
        EditConfig(folder.Path, c => c["target_modules"] = new JsonArray("self_attn"));
        Assert.Contains("'model.layers.0.self_attn', which is not a linear layer", Refused(folder.Path), StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_key_is_named()
    {
        using var folder = ValidAdapter();
        EditWeights(folder.Path, s => s.Remove("base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight"));
        Assert.Contains("missing key 'base_model.model.model.layers.1.self_attn.v_proj.lora_B.weight'", Refused(folder.Path), StringComparison.Ordinal);
    }

    [Fact]
    public void An_unexpected_key_is_named()
    {
        using var folder = ValidAdapter();
        EditWeights(folder.Path, s => s["base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector"] = ones(16));
        Assert.Contains("unexpected key 'base_model.model.model.layers.0.self_attn.q_proj.lora_magnitude_vector'", Refused(folder.Path), StringComparison.Ordinal);
    }

    [Fact]
    public void A_shape_that_does_not_fit_r_or_the_layer_is_named()
    {
        using var folder = ValidAdapter();
        EditWeights(folder.Path, s => s["base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight"] = zeros(3, 32));
        Assert.Contains("'base_model.model.model.layers.0.self_attn.q_proj.lora_A.weight' has shape [3, 32] but r = 2 and the layer need [2, 32]", Refused(folder.Path), StringComparison.Ordinal);
    }

    [Fact]
    public void Missing_files_are_named()
    {
        using var folder = ValidAdapter();
        File.Delete(Path.Combine(folder.Path, PeftAdapterFiles.WeightsFile));
        Assert.Contains($"{PeftAdapterFiles.WeightsFile}: not found", Refused(folder.Path), StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(folder.Path, "adapter_model.bin"), "x");
        Assert.Contains("adapter_model.bin (pickle) is not supported", Refused(folder.Path), StringComparison.Ordinal);
        File.Delete(Path.Combine(folder.Path, PeftAdapterFiles.ConfigFile));
        Assert.Contains($"{PeftAdapterFiles.ConfigFile}: not found", Refused(folder.Path), StringComparison.Ordinal);
    }

    [Fact]
    public void Loading_into_an_attachment_of_other_modules_is_refused_and_changes_nothing()
    {
        using var folder = ValidAdapter();
        using var model = ModelLoader.Load(AdapterTestKit.LlamaDirectory);
        using var lora = LoraAdapters.Attach(model, new LoraOptions { Targets = "q" });
        lora.AddAdapter("first", seed: 1);
        var e = Assert.Throws<CheckpointException>(() => PeftAdapterFiles.Load(lora, folder.Path, "second"));
        Assert.Contains("not attached: 'model.layers.0.self_attn.v_proj', 'model.layers.1.self_attn.v_proj'", e.Message, StringComparison.Ordinal);
        Assert.Equal(["first"], lora.AdapterNames);
        Assert.Equal("first", lora.TrainableAdapter);
    }
}
