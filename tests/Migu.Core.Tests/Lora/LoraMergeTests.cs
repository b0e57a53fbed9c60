using Migu.Core.Lora;
using static TorchSharp.torch;

namespace Migu.Core.Tests.Lora;

/// <summary>Merge puts ΔW = s·B·A into W, forward then skips the adapter; unmerge takes it out again.</summary>
public class LoraMergeTests
{
    private static (Projection P, LoraAdapters Lora) Layer()
    {
        manual_seed(8);
        var p = new Projection(6, 5, kind: ProjectionKind.Query);
        var lora = LoraAdapters.Attach(p, new LoraOptions { Adapter = LoraTestKit.Config(rank: 2, alpha: 3) });
        lora.AddAdapter("a", seed: 1);
        LoraTestKit.Randomize(lora, "a", seed: 2);
        lora.SetTrainable(null);
        return (p, lora);
    }

    [Fact]
    public void Delta_weight_is_s_times_B_times_A()
    {
        var (p, lora) = Layer();
        using var _p = p;
        using var _l = lora;
        LoraAdapter a = lora.Layers[0]["a"];
        float[] av = TestTensors.Values(a.A); // (2, 6)
        float[] bv = TestTensors.Values(a.B); // (5, 2)
        var expected = new double[5 * 6];
        for (int i = 0; i < 5; i++)
        {
            for (int j = 0; j < 6; j++)
            {
                expected[(i * 6) + j] = 1.5 * ((bv[i * 2] * (double)av[j]) + (bv[(i * 2) + 1] * (double)av[6 + j]));
            }
        }

        using var delta = a.DeltaWeight();
        TestTensors.AssertClose(expected, TestTensors.Values(delta), 1e-6, 1e-6, "ΔW");
    }

    [Fact]
    public void Merged_forward_equals_unmerged_forward_and_unmerge_restores_W()
    {
        var (p, lora) = Layer();
        using var _p = p;
        using var _l = lora;
        using var x = randn(4, 6);
        using var unmerged = p.call(x);
        using var w0 = p.Weight.detach().clone();

        lora.Merge("a");
        Assert.True(lora.IsMerged("a"));
        using var merged = p.call(x);
        using var expectedW = w0.add(lora.Layers[0]["a"].DeltaWeight());
        TestTensors.AssertClose(TestTensors.Values(expectedW).Select(v => (double)v).ToArray(), TestTensors.Values(p.Weight), 1e-6, 1e-6, "merged W");
        TestTensors.AssertClose(TestTensors.Values(unmerged).Select(v => (double)v).ToArray(), TestTensors.Values(merged), 1e-5, 1e-5, "merged forward");

        lora.Unmerge("a");
        Assert.False(lora.IsMerged("a"));
        TestTensors.AssertClose(TestTensors.Values(w0).Select(v => (double)v).ToArray(), TestTensors.Values(p.Weight), 1e-6, 0, "unmerged W");
        using var again = p.call(x);
        TestTensors.AssertClose(TestTensors.Values(unmerged).Select(v => (double)v).ToArray(), TestTensors.Values(again), 1e-5, 1e-5, "unmerged forward");
    }

    [Fact]
    public void Disposing_unmerges_and_detaching_with_keep_merged_keeps_the_merged_weight()
    {
        var (p, lora) = Layer();
        using var _p = p;
        using var w0 = p.Weight.detach().clone();
        lora.Merge("a");
        using var wMerged = p.Weight.detach().clone();
        lora.Dispose();
        Assert.Null(p.Lora);
        TestTensors.AssertClose(TestTensors.Values(w0).Select(v => (double)v).ToArray(), TestTensors.Values(p.Weight), 1e-6, 0, "W after dispose");

        var lora2 = LoraAdapters.Attach(p, new LoraOptions { Adapter = LoraTestKit.Config(rank: 2, alpha: 3) });
        lora2.AddAdapter("b", seed: 1);
        LoraTestKit.Randomize(lora2, "b", seed: 2);
        lora2.SetTrainable(null);
        lora2.Merge("b");
        lora2.Detach(keepMerged: true);
        Assert.Equal(TestTensors.Values(wMerged), TestTensors.Values(p.Weight));
        Assert.True(p.Weight.requires_grad);
    }

    [Fact]
    public void The_trainable_adapter_cannot_be_merged_and_a_merged_one_cannot_train()
    {
        var (p, lora) = Layer();
        using var _p = p;
        using var _l = lora;
        lora.SetTrainable("a");
        Assert.Contains("trainable", Assert.Throws<MiguUserException>(() => lora.Merge("a")).Message, StringComparison.Ordinal);
        lora.SetTrainable(null);
        lora.Merge("a");
        Assert.Contains("merged", Assert.Throws<MiguUserException>(() => lora.SetTrainable("a")).Message, StringComparison.Ordinal);
        Assert.Contains("already merged", Assert.Throws<MiguUserException>(() => lora.Merge("a")).Message, StringComparison.Ordinal);
    }
}
