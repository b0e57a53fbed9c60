using static TorchSharp.torch;

namespace Migu.Models.T5;

/// <summary>The FFN non-linearity named by the last part of <c>feed_forward_proj</c>.</summary>
public enum T5Activation
{
    Relu,

    /// <summary>Exact (erf) GELU.</summary>
    Gelu,

    /// <summary>The tanh approximation (transformers' NewGELU); what "gated-gelu" means (T5 v1.1, FLAN).</summary>
    GeluTanh,

    Silu,
}

internal static class T5ActivationFunctions
{
    private static readonly double TanhScale = Math.Sqrt(2.0 / Math.PI);

    public static Tensor Apply(T5Activation activation, Tensor x) => activation switch
    {
        T5Activation.Relu => nn.functional.relu(x),
        T5Activation.Gelu => nn.functional.gelu(x),
        T5Activation.GeluTanh => NewGelu(x),
        T5Activation.Silu => nn.functional.silu(x),
        _ => throw new ArgumentOutOfRangeException(nameof(activation)),
    };

    /// <summary>0.5·x·(1 + tanh(√(2/π)·(x + 0.044715·x³))), term for term as transformers' NewGELU.</summary>
    private static Tensor NewGelu(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor inner = x.add(x.pow(3.0).mul(0.044715)).mul(TanhScale);
        return x.mul(0.5).mul(inner.tanh().add(1.0)).MoveToOuterDisposeScope();
    }
}
