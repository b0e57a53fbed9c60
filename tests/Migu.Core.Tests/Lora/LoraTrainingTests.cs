using Migu.Core.Lora;
using Migu.Core.Optim;
using static TorchSharp.torch;

namespace Migu.Core.Tests.Lora;

/// <summary>Only the trainable adapter learns; the base model and frozen adapters stay bit-identical.</summary>
public class LoraTrainingTests
{
    [Fact]
    public void Only_the_trainable_adapter_gets_gradients_and_moves_under_AdamW()
    {
        manual_seed(9);
        using var model = new TinyMlp();
        using var lora = LoraAdapters.Attach(model, new LoraOptions { Targets = "all", Adapter = LoraTestKit.Config(rank: 2, alpha: 4) });
        lora.AddAdapter("old", seed: 1);
        LoraTestKit.Randomize(lora, "old", seed: 2);
        lora.AddAdapter("new", seed: 3); // IncLoRA: "old" stays active and is frozen
        Assert.Equal("new", lora.TrainableAdapter);
        Assert.Equal(["old", "new"], lora.ActiveAdapters);
        Assert.All(model.parameters(), p => Assert.False(p.requires_grad));

        var baseBefore = model.parameters().Select(p => TestTensors.Values(p)).ToList();
        var oldBefore = lora.Parameters("old").Select(p => TestTensors.Values(p)).ToList();
        var newBefore = lora.Parameters("new").Select(p => TestTensors.Values(p)).ToList();
        using var optimizer = new RowMaskedAdamW(lora.Parameters("new"), learningRate: 1e-2);
        using var x = randn(3, 4, 8);
        for (int step = 0; step < 3; step++)
        {
            using var scope = NewDisposeScope();
            optimizer.ZeroGrad();
            model.call(x).square().mean().backward();
            if (step == 0)
            {
                Assert.All(lora.Parameters("new"), p => Assert.NotNull(p.grad));
                Assert.All(lora.Parameters("old"), p => Assert.Null(p.grad));
                Assert.All(model.parameters(), p => Assert.Null(p.grad));
            }

            optimizer.Step(null);
        }

        Assert.Equal(baseBefore, model.parameters().Select(p => TestTensors.Values(p)).ToList());
        Assert.Equal(oldBefore, lora.Parameters("old").Select(p => TestTensors.Values(p)).ToList());
        var newAfter = lora.Parameters("new").Select(p => TestTensors.Values(p)).ToList();
        for (int i = 0; i < newAfter.Count; i++)
        {
            Assert.NotEqual(newBefore[i], newAfter[i]);
        }
    }

    [Fact]
    public void Detaching_restores_every_requires_grad_flag_as_it_was()
    {
        using var model = new TinyMlp();
        var named = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        named["fc2.bias"].requires_grad = false; // a flag the user set stays as set

        using (var lora = LoraAdapters.Attach(model, new LoraOptions { Targets = "q" }))
        {
            Assert.All(named.Values, p => Assert.False(p.requires_grad));
        }

        Assert.False(named["fc2.bias"].requires_grad);
        Assert.All(named.Where(kv => kv.Key != "fc2.bias"), kv => Assert.True(kv.Value.requires_grad, kv.Key));
        Assert.All(model.modules().OfType<Projection>(), p => Assert.Null(p.Lora));
    }

    [Fact]
    public void Without_FreezeModel_only_the_wrapped_projections_are_frozen()
    {
        using var model = new TinyMlp();
        using var lora = LoraAdapters.Attach(model, new LoraOptions { Targets = "q", FreezeModel = false });
        var frozen = model.named_parameters().Where(p => !p.parameter.requires_grad).Select(p => p.name);
        Assert.Equal(["fc2.weight", "fc2.bias"], frozen);
    }

    [Fact]
    public void Adapter_parameters_are_not_model_parameters_and_the_state_dict_keeps_its_keys()
    {
        using var model = new TinyMlp();
        var keys = model.state_dict().Keys.ToList();
        using var lora = LoraAdapters.Attach(model, new LoraOptions { Targets = "all" });
        lora.AddAdapter("a", seed: 1);
        Assert.Equal(keys, model.state_dict().Keys.ToList());
        Assert.Equal(5, model.parameters().Count()); // fc3 has no bias
        Assert.Equal(
            ["fc1.lora_A.a.weight", "fc1.lora_B.a.weight", "fc2.lora_A.a.weight", "fc2.lora_B.a.weight", "fc3.lora_A.a.weight", "fc3.lora_B.a.weight"],
            lora.NamedParameters("a").Select(p => p.Name));
    }
}
