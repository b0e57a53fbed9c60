using Migu.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Core.Tests;

/// <summary>fc3(tanh(fc2(tanh(fc1(x))))): the shape of the PyTorch golden script's model.</summary>
internal sealed class TinyMlp : nn.Module<Tensor, Tensor>
{
    private readonly Projection fc1;
    private readonly Projection fc2;
    private readonly Projection fc3;

    public TinyMlp(long dIn = 8, long hidden = 16)
        : base(nameof(TinyMlp))
    {
        fc1 = new Projection(dIn, hidden, kind: ProjectionKind.FeedForwardUp);
        fc2 = new Projection(hidden, hidden, kind: ProjectionKind.Query);
        fc3 = new Projection(hidden, dIn, hasBias: false, kind: ProjectionKind.FeedForwardDown);
        RegisterComponents();
    }

    public override Tensor forward(Tensor input) => fc3.call(tanh(fc2.call(tanh(fc1.call(input)))));
}

internal static class TestTensors
{
    public static float[] Values(Tensor t) => t.detach().cpu().to(ScalarType.Float32).reshape(-1).data<float>().ToArray();

    /// <summary>Masked mean squared error over real tokens: Σ m·(y − target)² / Σ m.</summary>
    public static Tensor MaskedMse(Tensor y, Tensor target, Tensor mask)
    {
        Tensor m = mask.to(ScalarType.Float32).unsqueeze(-1);
        return (y - target).square().mul(m).sum().div(mask.to(ScalarType.Float32).sum());
    }

    public static void AssertClose(IReadOnlyList<double> expected, float[] actual, double atol, double rtol, string what)
    {
        Assert.Equal(expected.Count, actual.Length);
        for (int i = 0; i < actual.Length; i++)
        {
            double diff = Math.Abs(expected[i] - actual[i]);
            Assert.True(diff <= atol + (rtol * Math.Abs(expected[i])), $"{what}[{i}]: expected {expected[i]}, got {actual[i]} (diff {diff})");
        }
    }
}
