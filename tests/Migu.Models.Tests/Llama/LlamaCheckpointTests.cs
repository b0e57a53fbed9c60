using System.Text.Json;
using Migu.Models.Checkpoints;
using Migu.Models.Llama;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Tests.Llama;

public sealed class LlamaCheckpointTests : IDisposable
{
    private readonly string temp = Path.Combine(Path.GetTempPath(), "migu-llama-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(temp))
        {
            Directory.Delete(temp, recursive: true);
        }
    }

    [Theory]
    [InlineData("gqa")]
    [InlineData("tied_llama3")]
    public void Saving_and_loading_again_gives_the_same_logits_and_keys_as_transformers_writes(string variant)
    {
        JsonElement fx = LlamaFixture.Of(variant).GetProperty("forward");
        using var model = LlamaForCausalLM.FromPretrained(LlamaFixture.ModelDirectory(variant));
        model.Save(temp);
        using var again = LlamaForCausalLM.FromPretrained(temp);
        model.eval();
        again.eval();
        using var scope = NewDisposeScope();
        using (no_grad())
        {
            Tensor expected = model.call(LlamaParityTests.Batch(fx)).Logits;
            Tensor actual = again.call(LlamaParityTests.Batch(fx)).Logits;
            Assert.True(expected.eq(actual).all().item<bool>());
        }

        var written = StateDictFiles.Load(temp);
        var original = StateDictFiles.Load(LlamaFixture.ModelDirectory(variant));
        Assert.Equal(original.Keys.Order(), written.Keys.Order());
        foreach (Tensor t in written.Values.Concat(original.Values))
        {
            t.Dispose();
        }
    }

    [Fact]
    public void A_checkpoint_missing_a_weight_is_refused_naming_the_key()
    {
        using (var model = LlamaForCausalLM.FromPretrained(LlamaFixture.ModelDirectory("gqa")))
        {
            model.Save(temp);
        }

        var state = StateDictFiles.Load(temp);
        state.Remove("model.layers.1.mlp.up_proj.weight", out Tensor? removed);
        removed?.Dispose();
        StateDictFiles.Save(temp, state);
        var e = Assert.Throws<CheckpointException>(() => LlamaForCausalLM.FromPretrained(temp));
        Assert.Contains("model.layers.1.mlp.up_proj.weight", e.Message, StringComparison.Ordinal);
        foreach (Tensor t in state.Values)
        {
            t.Dispose();
        }
    }
}
