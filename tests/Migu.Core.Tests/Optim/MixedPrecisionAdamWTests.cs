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
        using var plain = new RowMaskedAdamW([full], learningRate: 1e-2, weightDecay: 0.1);
        for (int step = 0; step < 5; step++)
        {
            using Tensor g = randn(6, 4).to(ScalarType.BFloat16);
            low.grad = g.clone();
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
        w.grad = randn(5, 3).to(ScalarType.BFloat16);
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
        a.grad = randn(3, 2).to(ScalarType.BFloat16);
        first.Step(null);
        using var second = new MixedPrecisionAdamW([b], 1e-2);
        second.ImportState(first.ExportState(names), namesB);

        using Tensor g = randn(3, 2).to(ScalarType.BFloat16);
        a.grad = g.clone();
        b.grad = g.clone();
        first.Step(null);
        second.Step(null);
        Assert.Equal(Values(first.MasterOf(a)), Values(second.MasterOf(b)));
        Assert.Equal(Values(a), Values(b));
    }

    private static float[] Values(Tensor t) => t.detach().to(ScalarType.Float32).data<float>().ToArray();
}
