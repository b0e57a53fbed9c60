using Migu.Models.Checkpoints;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Migu.Models.Tests.Checkpoints;

public sealed class StateDictTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("migu-ckpt").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    private static Dictionary<string, Tensor> StateOf(nn.Module m) =>
        StateDictBinder.Targets(m).ToDictionary(t => t.Name, t => t.Tensor);

    [Fact]
    public void Saved_weights_load_back_identically()
    {
        torch.manual_seed(1);
        using var a = new CheckpointTestModel();
        using var b = new CheckpointTestModel();
        ModelCheckpoint.Save(a, dir);

        ModelCheckpoint.LoadWeights(b, dir);

        Assert.True(File.Exists(Path.Combine(dir, "config.json")));
        Assert.Empty(Directory.GetFiles(dir, "*.tmp"));
        foreach (var (name, t) in StateOf(a))
        {
            Assert.True(t.allclose(StateOf(b)[name], rtol: 0, atol: 0), name);
        }
    }

    [Fact]
    public void Sharded_safetensors_with_an_index_load_like_one_file()
    {
        torch.manual_seed(2);
        using var a = new CheckpointTestModel();
        var state = StateOf(a);
        Safetensors.SaveStateDict(Path.Combine(dir, "model-00001-of-00002.safetensors"), new Dictionary<string, Tensor> { ["proj.weight"] = state["proj.weight"], ["proj.bias"] = state["proj.bias"] });
        Safetensors.SaveStateDict(Path.Combine(dir, "model-00002-of-00002.safetensors"), new Dictionary<string, Tensor> { ["head.weight"] = state["head.weight"] });
        File.WriteAllText(Path.Combine(dir, "model.safetensors.index.json"), """
            {"metadata": {}, "weight_map": {"proj.weight": "model-00001-of-00002.safetensors",
             "proj.bias": "model-00001-of-00002.safetensors", "head.weight": "model-00002-of-00002.safetensors"}}
            """);

        var loaded = StateDictFiles.Load(dir);

        Assert.Equal(3, loaded.Count);
        Assert.True(loaded["head.weight"].allclose(state["head.weight"], rtol: 0, atol: 0));
    }

    [Fact]
    public void PyTorch_bin_files_load()
    {
        torch.manual_seed(3);
        using var a = new CheckpointTestModel();
        var state = StateOf(a);
        PyTorchPickler.PickleStateDict(Path.Combine(dir, "pytorch_model.bin"), state);

        var loaded = StateDictFiles.Load(dir);

        Assert.True(loaded["proj.weight"].allclose(state["proj.weight"], rtol: 0, atol: 0));
    }

    [Fact]
    public void Bf16_weights_are_converted_on_load()
    {
        using var a = new CheckpointTestModel();
        var state = StateOf(a).ToDictionary(kv => kv.Key, kv => kv.Value.to(ScalarType.BFloat16));
        Safetensors.SaveStateDict(Path.Combine(dir, "model.safetensors"), state);
        using var b = new CheckpointTestModel();

        ModelCheckpoint.LoadWeights(b, dir);

        Assert.Equal(ScalarType.Float32, StateOf(b)["proj.weight"].dtype);
        Assert.True(StateOf(b)["proj.weight"].allclose(state["proj.weight"].to(ScalarType.Float32)));
    }

    [Fact]
    public void Aliases_and_ignorable_keys_are_accepted()
    {
        using var a = new CheckpointTestModel();
        var state = StateOf(a);
        var stored = new Dictionary<string, Tensor>
        {
            ["proj.weight"] = state["proj.weight"],
            ["proj.bias"] = state["proj.bias"],
            ["lm_head.weight"] = state["head.weight"], // stored under its alias
            ["rotary.inv_freq"] = ones(2), // ignorable
        };
        using var b = new CheckpointTestModel();

        StateDictBinder.Load(b, stored, "ckpt", b.CheckpointAliases, b.IsIgnorableCheckpointKey);

        Assert.True(StateOf(b)["head.weight"].allclose(state["head.weight"], rtol: 0, atol: 0));
    }

    [Fact]
    public void Missing_unexpected_and_misshapen_keys_are_named()
    {
        using var m = new CheckpointTestModel();
        var good = StateOf(m);

        var missing = new Dictionary<string, Tensor>(good);
        missing.Remove("proj.bias");
        var e1 = Assert.Throws<CheckpointException>(() => StateDictBinder.Load(m, missing, "ckpt"));
        Assert.Contains("missing key 'proj.bias'", e1.Message, StringComparison.Ordinal);

        var extra = new Dictionary<string, Tensor>(good) { ["encoder.extra.weight"] = ones(1) };
        var e2 = Assert.Throws<CheckpointException>(() => StateDictBinder.Load(m, extra, "ckpt"));
        Assert.Contains("unexpected key 'encoder.extra.weight'", e2.Message, StringComparison.Ordinal);

        var misshapen = new Dictionary<string, Tensor>(good) { ["proj.weight"] = ones(5, 4) };
        var e3 = Assert.Throws<CheckpointException>(() => StateDictBinder.Load(m, misshapen, "ckpt"));
        Assert.Contains("'proj.weight' has shape [5, 4] but the model's 'proj.weight' is [4, 4]", e3.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_directory_without_weights_or_with_a_broken_file_is_a_clear_error()
    {
        var e1 = Assert.Throws<CheckpointException>(() => StateDictFiles.Load(dir));
        Assert.Contains("no weights found", e1.Message, StringComparison.Ordinal);

        File.WriteAllText(Path.Combine(dir, "model.safetensors"), "not really");
        var e2 = Assert.Throws<CheckpointException>(() => StateDictFiles.Load(dir));
        Assert.Contains("model.safetensors", e2.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_shard_listed_in_the_index_but_absent_is_named()
    {
        File.WriteAllText(Path.Combine(dir, "model.safetensors.index.json"), """{"weight_map": {"a": "gone.safetensors"}}""");
        var e = Assert.Throws<CheckpointException>(() => StateDictFiles.Load(dir));
        Assert.Contains("'gone.safetensors' is listed but missing", e.Message, StringComparison.Ordinal);
    }
}
