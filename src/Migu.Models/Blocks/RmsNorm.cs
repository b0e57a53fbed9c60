using Migu.Core.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Models.Blocks;

/// <summary>
/// Root-mean-square norm without mean subtraction or bias: T5's layer norm and Llama's RMSNorm.
/// The variance is computed in fp32 whatever the input dtype, as transformers does; the result
/// goes back to the input dtype before the weight multiplies it. Parameter name <c>weight</c>.
/// With the fused-rmsnorm lever it is aten::rms_norm (one kernel on CUDA where libtorch has one),
/// which multiplies by the weight before rounding to the input dtype: equal in fp32, within one
/// rounding step in bf16.
/// </summary>
public sealed class RmsNorm : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;

    public RmsNorm(long size, double epsilon, Device? device = null, ScalarType? dtype = null)
        : base(nameof(RmsNorm))
    {
        Epsilon = epsilon;
        weight = new Parameter(ones(size, dtype: dtype, device: device));
        RegisterComponents();
    }

    public double Epsilon { get; }

    public Parameter Weight => weight;

    public override Tensor forward(Tensor input)
    {
        if (PerformanceLevers.On(input.device_type).FusedRmsNorm && input.dtype == weight.dtype)
        {
            return ScriptKernels.RmsNorm(input, weight, Epsilon);
        }

        using var scope = NewDisposeScope();
        Tensor x = input.to(ScalarType.Float32);
        Tensor variance = x.square().mean([-1L], keepdim: true); // (…, 1)
        Tensor normed = x.mul(variance.add(Epsilon).rsqrt()).to(input.dtype);
        return weight.mul(normed).MoveToOuterDisposeScope();
    }
}
