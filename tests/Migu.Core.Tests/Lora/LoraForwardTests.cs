using Migu.Core.Lora;
using static TorchSharp.torch;

namespace Migu.Core.Tests.Lora;

/// <summary>x_O = x·Wᵀ + b + Σ_active s·(dropout(x)·Aᵀ)·Bᵀ, checked by hand and against the formula written out in fp64.</summary>
public class LoraForwardTests
{
    [Fact]
    public void Forward_adds_the_scaled_low_rank_update_computed_by_hand()
    {
        using var p = LoraTestKit.HandProjection();
        using var lora = LoraAdapters.Attach(p, new LoraOptions { Targets = "q" });
        lora.AddAdapter("task", seed: 1, LoraTestKit.Config(rank: 2, alpha: 4)); // s = 2
        LoraTestKit.Set(lora.Layers[0]["task"].A, LoraTestKit.HandA);
        LoraTestKit.Set(lora.Layers[0]["task"].B, LoraTestKit.HandB);
        using var x = tensor(LoraTestKit.Tokens[..4]).reshape(2, 2);

        using var y = p.call(x);

        // h = x·Aᵀ = [1, −0.5], [2, 2]; h·Bᵀ = [1, −0.5, 0.5], [2, 2, 4]; base [−1, 2, −2], [4, 1.5, −3].
        Assert.Equal([1f, 1f, -1f, 8f, 5.5f, 5f], TestTensors.Values(y));
    }

    [Fact]
    public void Forward_matches_the_formula_in_fp64_for_random_weights_and_three_dimensional_input()
    {
        manual_seed(3);
        using var p = new Projection(6, 5, kind: ProjectionKind.Value);
        using var lora = LoraAdapters.Attach(p, new LoraOptions { Targets = "v" });
        lora.AddAdapter("a", seed: 7, LoraTestKit.Config(rank: 3, alpha: 5));
        LoraTestKit.Randomize(lora, "a", seed: 11);
        using var x = randn(2, 4, 6);

        using var y = p.call(x);

        LoraAdapter adapter = lora.Layers[0]["a"];
        using var x64 = x.to(ScalarType.Float64);
        using var expected = x64.matmul(p.Weight.detach().to(ScalarType.Float64).t()).add(p.Bias!.detach().to(ScalarType.Float64))
            .add(x64.matmul(adapter.A.detach().to(ScalarType.Float64).t()).matmul(adapter.B.detach().to(ScalarType.Float64).t()).mul(5.0 / 3));
        Assert.Equal([2L, 4, 5], y.shape);
        TestTensors.AssertClose(TestTensors.Values(expected).Select(v => (double)v).ToArray(), TestTensors.Values(y), 1e-5, 1e-5, "x_O");
    }

    [Fact]
    public void A_new_adapter_leaves_the_output_bit_identical_because_B_starts_at_zero()
    {
        manual_seed(4);
        using var p = new Projection(8, 4, kind: ProjectionKind.Query);
        using var x = randn(3, 8);
        using var before = p.call(x);
        using var lora = LoraAdapters.Attach(p, new LoraOptions());

        lora.AddAdapter("fresh", seed: 5);

        using var after = p.call(x);
        Assert.True(lora.Layers[0]["fresh"].B.detach().eq(0).all().item<bool>());
        Assert.Equal(TestTensors.Values(before), TestTensors.Values(after));
    }

    [Fact]
    public void Active_adapters_are_summed_and_an_inactive_one_adds_nothing()
    {
        manual_seed(5);
        using var p = new Projection(6, 4, kind: ProjectionKind.Query);
        using var x = randn(3, 6);
        using var lora = LoraAdapters.Attach(p, new LoraOptions { Adapter = LoraTestKit.Config(rank: 2, alpha: 2) });
        using var baseOut = p.call(x);
        lora.AddAdapter("one", seed: 1);
        LoraTestKit.Randomize(lora, "one", seed: 2);
        using var withOne = p.call(x);
        lora.AddAdapter("two", seed: 3, LoraTestKit.Config(rank: 3, alpha: 6));
        LoraTestKit.Randomize(lora, "two", seed: 4);

        Assert.Equal(["one", "two"], lora.ActiveAdapters);
        using var both = p.call(x);
        using var deltaOne = lora.Layers[0]["one"].DeltaWeight();
        using var deltaTwo = lora.Layers[0]["two"].DeltaWeight();
        using var expected = baseOut.add(x.matmul(deltaOne.t())).add(x.matmul(deltaTwo.t()));
        TestTensors.AssertClose(TestTensors.Values(expected).Select(v => (double)v).ToArray(), TestTensors.Values(both), 1e-5, 1e-5, "IncLoRA sum");

        lora.SetActive(["two"]);
        using var onlyTwo = p.call(x);
        using var expectedTwo = baseOut.add(x.matmul(deltaTwo.t()));
        TestTensors.AssertClose(TestTensors.Values(expectedTwo).Select(v => (double)v).ToArray(), TestTensors.Values(onlyTwo), 1e-5, 1e-5, "one inactive");
        Assert.NotEqual(TestTensors.Values(withOne), TestTensors.Values(onlyTwo));
    }

    [Fact]
    public void Dropout_acts_on_the_adapter_input_in_training_mode_only()
    {
        manual_seed(6);
        using var p = new Projection(16, 8, kind: ProjectionKind.Query);
        using var lora = LoraAdapters.Attach(p, new LoraOptions { Adapter = LoraTestKit.Config(rank: 4, alpha: 8, dropout: 0.5) });
        lora.AddAdapter("d", seed: 1);
        using var x = randn(32, 16);
        using var baseOut = nn.functional.linear(x, p.Weight.detach(), p.Bias!.detach());
        p.eval();
        using var evalOut = p.call(x);
        Assert.Equal(TestTensors.Values(baseOut), TestTensors.Values(evalOut)); // B = 0 so far

        LoraTestKit.Randomize(lora, "d", seed: 2);
        using var evalRandom = p.call(x);
        using var delta = lora.Layers[0]["d"].DeltaWeight();
        using var expected = baseOut.add(x.matmul(delta.t()));
        TestTensors.AssertClose(TestTensors.Values(expected).Select(v => (double)v).ToArray(), TestTensors.Values(evalRandom), 1e-5, 1e-5, "eval: no dropout");

        p.train();
        using var trainOut = p.call(x);
        Assert.NotEqual(TestTensors.Values(evalRandom), TestTensors.Values(trainOut));
    }

    [Fact]
    public void A_is_nn_Linear_s_kaiming_uniform_seeded_and_adapters_follow_the_weight_dtype()
    {
        using var p = new Projection(64, 8, kind: ProjectionKind.Query, dtype: ScalarType.BFloat16);
        using var lora = LoraAdapters.Attach(p, new LoraOptions { Adapter = LoraTestKit.Config(rank: 512, alpha: 8) });
        lora.AddAdapter("x", seed: 42);
        lora.AddAdapter("same", seed: 42);
        lora.AddAdapter("other", seed: 43);
        LoraAdapter x = lora.Layers[0]["x"];
        Assert.Equal(ScalarType.BFloat16, x.A.dtype);
        Assert.Equal(ScalarType.BFloat16, x.B.dtype);
        Assert.Equal([512L, 64], x.A.shape);
        Assert.Equal([8L, 512], x.B.shape);
        Assert.Equal(TestTensors.Values(x.A), TestTensors.Values(lora.Layers[0]["same"].A));
        Assert.NotEqual(TestTensors.Values(x.A), TestTensors.Values(lora.Layers[0]["other"].A));

        // The reference: TorchSharp's own Kaiming-uniform with a = √5 on a tensor of the same fan-in.
        using var reference = empty(512, 64);
        nn.init.kaiming_uniform_(reference, a: Math.Sqrt(5));
        double referenceMax = reference.abs().max().item<float>();
        double ours = x.A.to(ScalarType.Float32).abs().max().item<float>();
        double bound = 1 / Math.Sqrt(64);
        Assert.InRange(referenceMax, 0.99 * bound, bound);
        Assert.InRange(ours, 0.99 * bound, bound * 1.004); // bf16 rounding of values near the bound
        Assert.InRange(x.A.to(ScalarType.Float32).mean().item<float>(), -0.005, 0.005);
    }
}
