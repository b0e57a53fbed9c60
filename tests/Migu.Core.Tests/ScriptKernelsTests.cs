using Migu.Core.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Core.Tests;

/// <summary>
/// Every TorchScript function ScriptKernels compiles, against the same arithmetic written with
/// TorchSharp's bound operators; and the one-pass recording lever against the recording it replaces.
/// </summary>
public sealed class ScriptKernelsTests
{
    [Fact]
    public void Fused_adamw_is_torch_optim_adamws_formula()
    {
        manual_seed(1);
        using Tensor p = randn(40, 7);
        using Tensor g = randn(40, 7);
        using Tensor m = randn(40, 7).mul_(0.1);
        using Tensor v = rand(40, 7).mul_(0.01);
        using Tensor step = full(1, 3f);
        using Tensor p2 = p.clone(), m2 = m.clone(), v2 = v.clone();

        ScriptKernels.FusedAdamW([p], [g], [m], [v], [step], 1e-2, 0.9, 0.999, 0.1, 1e-8);

        p2.mul_(1 - (1e-2 * 0.1));
        m2.lerp_(g, 0.1);
        v2.mul_(0.999).addcmul_(g, g, 0.001);
        using Tensor denom = v2.sqrt().div_(Math.Sqrt(1 - Math.Pow(0.999, 3))).add_(1e-8);
        p2.addcdiv_(m2, denom, -1e-2 / (1 - Math.Pow(0.9, 3)));
        Assert.Equal(TestTensors.Values(m2), TestTensors.Values(m));
        Assert.Equal(TestTensors.Values(v2), TestTensors.Values(v));
        TestTensors.AssertClose([.. TestTensors.Values(p2).Select(x => (double)x)], TestTensors.Values(p), 1e-7, 1e-6, "weights");
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    public void L1_reductions_sum_absolute_values_in_fp32(ScalarType dtype)
    {
        manual_seed(2);
        using Tensor y = randn(37, 11).to(dtype);
        using Tensor mask = tensor(Enumerable.Range(0, 37).Select(i => i % 3 == 0 ? 0f : 1f).ToArray()).to(dtype);
        using Tensor acc = ones(11);
        using Tensor accMasked = ones(11);

        ScriptKernels.AddL1(acc, y);
        ScriptKernels.AddL1Masked(accMasked, y, mask);

        using Tensor y32 = y.to(ScalarType.Float32);
        using Tensor expected = y32.abs().sum(dim: 0).add(1);
        using Tensor expectedMasked = y32.abs().mul(mask.to(ScalarType.Float32).unsqueeze(1)).sum(dim: 0).add(1);
        Assert.Equal(ScalarType.Float32, acc.dtype);
        TestTensors.AssertClose([.. TestTensors.Values(expected).Select(x => (double)x)], TestTensors.Values(acc), 1e-5, 1e-6, "Σ|y|");
        TestTensors.AssertClose([.. TestTensors.Values(expectedMasked).Select(x => (double)x)], TestTensors.Values(accMasked), 1e-5, 1e-6, "Σ m|y|");
    }

    [Fact]
    public void Rms_norm_has_the_formulas_values_and_gradients_in_fp32()
    {
        manual_seed(3);
        using Tensor x = randn(3, 5, 24, requires_grad: true);
        using Tensor w = randn(24, requires_grad: true);
        using Tensor x2 = x.detach().clone().requires_grad_(true);
        using Tensor w2 = w.detach().clone().requires_grad_(true);
        using Tensor upstream = randn(3, 5, 24);

        using Tensor fused = ScriptKernels.RmsNorm(x, w, 1e-6);
        fused.mul(upstream).sum().backward();
        using Tensor plain = w2.mul(x2.mul(x2.square().mean([-1L], keepdim: true).add(1e-6).rsqrt()));
        plain.mul(upstream).sum().backward();

        TestTensors.AssertClose([.. TestTensors.Values(plain).Select(v => (double)v)], TestTensors.Values(fused), 1e-6, 1e-6, "y");
        TestTensors.AssertClose([.. TestTensors.Values(x2.grad!).Select(v => (double)v)], TestTensors.Values(x.grad!), 1e-5, 1e-5, "dx");
        TestTensors.AssertClose([.. TestTensors.Values(w2.grad!).Select(v => (double)v)], TestTensors.Values(w.grad!), 1e-5, 1e-5, "dw");
    }

    [Theory]
    [InlineData(ScalarType.Float32, false)]
    [InlineData(ScalarType.Float32, true)]
    [InlineData(ScalarType.BFloat16, false)]
    [InlineData(ScalarType.BFloat16, true)]
    public void One_pass_recording_records_what_the_two_pass_recording_records(ScalarType dtype, bool padded)
    {
        float[] Record(PerformanceLevers levers)
        {
            using var use = PerformanceLevers.Use(levers);
            manual_seed(4);
            var p = new Projection(12, 20, kind: ProjectionKind.FeedForwardUp);
            p.to(dtype);
            using Tensor acc = zeros(20);
            p.MagnitudeAccumulator = acc;
            using Tensor x = randn(3, 6, 12).to(dtype);
            using Tensor mask = tensor(Enumerable.Range(0, 18).Select(i => i % 4 == 3 ? 0L : 1L).ToArray()).reshape(3, 6);
            using (TokenMask.Use(padded ? mask : null))
            using (var scope = NewDisposeScope())
            {
                p.call(x);
                p.call(x.flip(1)); // a second forward accumulates
            }

            return TestTensors.Values(acc);
        }

        float[] twoPass = Record(PerformanceLevers.None);
        float[] onePass = Record(PerformanceLevers.None with { L1Recording = true });
        TestTensors.AssertClose([.. twoPass.Select(v => (double)v)], onePass, 1e-4, 1e-5, "magnitudes");
        Assert.Contains(onePass, v => v > 0);
    }
}
