using Migu.Core.Optim;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Core.Tests.Optim;

public sealed class MixedPrecisionAdamWTests
{
    [Fact]
    public void Masters_follow_fp32_adamw_and_the_bf16_weight_is_their_rounding()
    {
        manual_seed(3);
        using Tensor start = randn(6, 4).to(ScalarType.BFloat16).to(ScalarType.Float32); // bf16-exact
        var low = new Parameter(start.to(ScalarType.BFloat16));
        var full = new Parameter(start.clone());
        using var mixed = new MixedPrecisionAdamW([low], learningRate: 1e-2, weightDecay: 0.1);
        Assert.NotNull(low.grad); // a view of the optimizer's flat gradient buffer, from the start
        using var plain = new RowMaskedAdamW([full], learningRate: 1e-2, weightDecay: 0.1);
        for (int step = 0; step < 5; step++)
        {
            using Tensor g = randn(6, 4).to(ScalarType.BFloat16);
            low.grad!.copy_(g); // the optimizer's gradients are views of one buffer: written into, never replaced
            full.grad = g.to(ScalarType.Float32);
            mixed.Step(null);
            plain.Step(null);
        }

        Assert.Equal(Values(full), Values(mixed.MasterOf(low)));
        Assert.Equal(Values(full.to(ScalarType.BFloat16)), Values(low));
        Assert.NotEqual(Values(start), Values(full)); // it moved
    }

    [Fact]
    public void Update_mode_rows_stay_bit_identical_in_weight_and_master()
    {
        manual_seed(4);
        var w = new Parameter(randn(5, 3).to(ScalarType.BFloat16));
        float[] before = Values(w);
        using var optimizer = new MixedPrecisionAdamW([w], learningRate: 0.1);
        using Tensor mask = tensor(new float[] { 1, 0, 1, 0, 0 }).unsqueeze(1); // (rows, 1)
        w.grad!.copy_(randn(5, 3));
        optimizer.Step(new Dictionary<Parameter, Tensor>(ReferenceEqualityComparer.Instance) { [w] = mask });

        float[] after = Values(w);
        for (int row = 0; row < 5; row++)
        {
            bool frozen = row is 1 or 3 or 4;
            bool same = Enumerable.Range(0, 3).All(c => before[(row * 3) + c] == after[(row * 3) + c]);
            Assert.True(frozen == same, $"row {row}: frozen {frozen}, unchanged {same}");
        }
    }

    [Fact]
    public void State_round_trips_through_export_and_import_masters_included()
    {
        manual_seed(5);
        var a = new Parameter(randn(3, 2).to(ScalarType.BFloat16));
        var b = new Parameter(a.detach().clone());
        var names = new Dictionary<Parameter, string>(ReferenceEqualityComparer.Instance) { [a] = "w" };
        var namesB = new Dictionary<Parameter, string>(ReferenceEqualityComparer.Instance) { [b] = "w" };
        using var first = new MixedPrecisionAdamW([a], 1e-2);
        first.Step(null); // a zero gradient still steps (weight decay, moments)
        a.grad!.copy_(randn(3, 2));
        first.Step(null);
        using var second = new MixedPrecisionAdamW([b], 1e-2);
        second.ImportState(first.ExportState(names), namesB);

        using Tensor g = randn(3, 2).to(ScalarType.BFloat16);
        a.grad!.copy_(g);
        b.grad!.copy_(g);
        first.Step(null);
        second.Step(null);
        Assert.Equal(Values(first.MasterOf(a)), Values(second.MasterOf(b)));
        Assert.Equal(Values(a), Values(b));
    }

    [Fact]
    public void Weights_and_gradients_become_views_of_flat_buffers_and_the_flat_step_equals_the_per_parameter_step()
    {
        manual_seed(6);
        Parameter[] flat = [new(randn(4, 3).to(ScalarType.BFloat16)), new(randn(7).to(ScalarType.BFloat16)), new(randn(2, 2).to(ScalarType.BFloat16))];
        Parameter[] perParam = [.. flat.Select(p => new Parameter(p.detach().clone()))];
        using var a = new MixedPrecisionAdamW(flat, 1e-2);
        using var b = new MixedPrecisionAdamW(perParam, 1e-2);
        var none = new Dictionary<Parameter, Tensor>(ReferenceEqualityComparer.Instance); // a mask map forces the per-parameter path
        for (int s = 0; s < 3; s++)
        {
            for (int i = 0; i < flat.Length; i++)
            {
                using Tensor g = randn(flat[i].shape);
                flat[i].grad!.copy_(g);
                perParam[i].grad!.copy_(g);
            }

            a.Step(null);
            b.Step(none);
        }

        for (int i = 0; i < flat.Length; i++)
        {
            Assert.Equal(Values(b.MasterOf(perParam[i])), Values(a.MasterOf(flat[i])));
            Assert.Equal(Values(perParam[i]), Values(flat[i]));
        }

        a.ZeroGrad();
        Assert.All(flat, p => Assert.All(Values(p.grad!), v => Assert.Equal(0f, v)));
    }

    private static float[] Values(Tensor t) => t.detach().to(ScalarType.Float32).data<float>().ToArray();
}
