using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Models.Blocks;

/// <summary>
/// Root-mean-square norm without mean subtraction or bias: T5's layer norm and Llama's RMSNorm.
/// The variance is computed in fp32 whatever the input dtype, as transformers does; the result
/// goes back to the input dtype before the weight multiplies it. Parameter name <c>weight</c>.
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
        using var scope = NewDisposeScope();
        Tensor x = input.to(ScalarType.Float32);
        Tensor variance = x.square().mean([-1L], keepdim: true); // (…, 1)
        Tensor normed = x.mul(variance.add(Epsilon).rsqrt()).to(input.dtype);
        return weight.mul(normed).MoveToOuterDisposeScope();
    }
}
