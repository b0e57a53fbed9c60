using Migu.Core.Lora;
using Migu.Core.Optim;
using static TorchSharp.torch;

namespace Migu.Core.Tests.Lora;

/// <summary>
/// MIGU for LoRA: A's rows are ranked by Σ|x·Aᵀ| and B's by Σ|x_O| (the whole layer output), over
/// non-padding tokens; the unchanged MiguController masks them.
/// </summary>
public class LoraMiguTests
{
    private static (Projection P, LoraAdapters Lora) HandLayer()
    {
        var p = LoraTestKit.HandProjection();
        var lora = LoraAdapters.Attach(p, new LoraOptions { Targets = "q" });
        lora.AddAdapter("task", seed: 1, LoraTestKit.Config(rank: 2, alpha: 2)); // s = 1
        LoraTestKit.Set(lora.Layers[0]["task"].A, LoraTestKit.HandA);
        LoraTestKit.Set(lora.Layers[0]["task"].B, LoraTestKit.HandB);
        return (p, lora);
    }

    [Fact]
    public void Magnitudes_of_A_and_B_are_the_hand_computed_sums_over_real_tokens()
    {
        var (p, lora) = HandLayer();
        using var _p = p;
        using var _l = lora;
        using var migu = new MiguController(lora.MiguTargets("task"), new MiguOptions { Threshold = 0.5, SkipFirstTask = false });
        Assert.Equal(["lora_A.task.weight", "lora_B.task.weight"], migu.Targets.Select(t => t.Name));
        using var x = tensor(LoraTestKit.Tokens).reshape(1, 3, 2);
        using var mask = tensor(new long[] { 1, 1, 0 }).reshape(1, 3);

        using (TokenMask.Use(mask))
        using (migu.Recording())
        {
            p.call(x).Dispose();
        }

        // h = x·Aᵀ: [1, −0.5], [2, 2] (padding [100, −50] left out) → Σ|h| = [3, 2.5].
        // x_O = base + h·Bᵀ: [0, 1.5, −1.5], [6, 3.5, 1] → Σ|x_O| = [6, 5, 2.5].
        Assert.Equal([3f, 2.5f], TestTensors.Values(migu.MagnitudesOf(migu.Targets[0])));
        Assert.Equal([6f, 5f, 2.5f], TestTensors.Values(migu.MagnitudesOf(migu.Targets[1])));

        migu.BuildMasks();
        // T = 0.5 masks ⌊0.5·2⌋ = 1 row of A and ⌊0.5·3⌋ = 1 row of B: the smallest of each.
        Assert.Equal([1f, 0f], TestTensors.Values(migu.MaskOf(migu.Targets[0])));
        Assert.Equal([1f, 1f, 0f], TestTensors.Values(migu.MaskOf(migu.Targets[1])));
    }

    [Fact]
    public void Magnitudes_match_the_formula_for_random_weights_with_two_active_adapters()
    {
        manual_seed(12);
        using var p = new Projection(6, 5, kind: ProjectionKind.Value);
        using var lora = LoraAdapters.Attach(p, new LoraOptions { Targets = "v", Adapter = LoraTestKit.Config(rank: 3, alpha: 6) });
        lora.AddAdapter("old", seed: 1);
        LoraTestKit.Randomize(lora, "old", seed: 2);
        lora.AddAdapter("new", seed: 3);
        LoraTestKit.Randomize(lora, "new", seed: 4);
        using var migu = new MiguController(lora.MiguTargets("new"), new MiguOptions { SkipFirstTask = false });
        using var x = randn(2, 4, 6);
        using var mask = tensor(new long[] { 1, 1, 1, 0, 1, 0, 0, 0 }).reshape(2, 4);

        Tensor y;
        using (migu.Recording())
        {
            y = WithMask(mask, () => p.call(x));
        }

        using var owned = y;

        using var m = mask.reshape(-1, 1).to(ScalarType.Float64); // (N, 1)
        using var x64 = x.reshape(-1, 6).to(ScalarType.Float64);
        using var h = x64.matmul(lora.Layers[0]["new"].A.detach().to(ScalarType.Float64).t()); // (N, r)
        using var expectedA = h.abs().mul(m).sum(dim: 0);
        using var expectedB = y.detach().reshape(-1, 5).to(ScalarType.Float64).abs().mul(m).sum(dim: 0);
        TestTensors.AssertClose(Doubles(expectedA), TestTensors.Values(migu.MagnitudesOf(migu.Targets[0])), 1e-5, 1e-5, "A magnitudes");
        TestTensors.AssertClose(Doubles(expectedB), TestTensors.Values(migu.MagnitudesOf(migu.Targets[1])), 1e-5, 1e-5, "B magnitudes");
    }

    [Fact]
    public void Update_mode_leaves_masked_rows_of_A_and_B_bit_identical()
    {
        var (p, lora) = HandLayer();
        using var _p = p;
        using var _l = lora;
        using var optimizer = new RowMaskedAdamW(lora.Parameters("task"), learningRate: 0.1);
        using var migu = new MiguController(lora.MiguTargets("task"), new MiguOptions { Threshold = 0.5, Mode = MiguMode.Update, SkipFirstTask = false });
        LoraAdapter adapter = lora.Layers[0]["task"];
        using var a0 = adapter.A.detach().clone();
        using var b0 = adapter.B.detach().clone();
        using var x = tensor(LoraTestKit.Tokens).reshape(1, 3, 2);
        using var mask = tensor(new long[] { 1, 1, 0 }).reshape(1, 3);

        using (var scope = NewDisposeScope())
        {
            optimizer.ZeroGrad();
            using (migu.Recording())
            {
                WithMask(mask, () => p.call(x)).square().sum().backward();
            }

            Assert.True(adapter.A.grad!.ne(0).any(1).all().item<bool>(), "every row of A has a gradient");
            Assert.True(adapter.B.grad!.ne(0).any(1).all().item<bool>(), "every row of B has a gradient");
            migu.Step(optimizer);
        }

        // Masks as in the hand case: A keeps row 0, B keeps rows 0 and 1.
        Assert.Equal([true, false], RowsMoved(adapter.A, a0));
        Assert.Equal([true, true, false], RowsMoved(adapter.B, b0));
    }

    [Fact]
    public void Only_the_trainable_adapter_is_a_MIGU_target()
    {
        var (p, lora) = HandLayer();
        using var _p = p;
        using var _l = lora;
        lora.AddAdapter("next", seed: 2);
        var e = Assert.Throws<MiguUserException>(() => lora.MiguTargets("task"));
        Assert.Contains("'task' is frozen", e.Message, StringComparison.Ordinal);
    }

    private static Tensor WithMask(Tensor mask, Func<Tensor> forward)
    {
        using (TokenMask.Use(mask))
        {
            return forward();
        }
    }

    private static bool[] RowsMoved(Tensor now, Tensor before)
    {
        using var moved = now.detach().ne(before).any(1);
        return moved.data<bool>().ToArray();
    }

    private static double[] Doubles(Tensor t) => t.data<double>().ToArray();
}
