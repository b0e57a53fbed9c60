using Migu.Core.Lora;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Core.Tests.Lora;

/// <summary>Small hand-made layers for the LoRA tests.</summary>
internal static class LoraTestKit
{
    /// <summary>
    /// W (3×2), b (3); tokens [1, 1] and [2, −1] are real, [100, 100] is padding. Base y = [−1, 2, −2]
    /// and [4, 1.5, −3] (as in ProjectionRecordingTests).
    /// </summary>
    public static readonly float[] Weight = [1, -2, 0.5f, 0.5f, -1, 0];
    public static readonly float[] BiasValues = [0, 1, -1];
    public static readonly float[] Tokens = [1, 1, 2, -1, 100, 100];

    /// <summary>A (2×2) and B (3×2) of the hand adapter; with r = 2 and α = 2, s = 1.</summary>
    public static readonly float[] HandA = [1, 0, 0.5f, -1];
    public static readonly float[] HandB = [1, 0, 0, 1, 1, 1];

    public static Projection HandProjection(ProjectionKind kind = ProjectionKind.Query)
    {
        var p = new Projection(2, 3, kind: kind);
        using var noGrad = no_grad();
        p.Weight.copy_(tensor(Weight).reshape(3, 2));
        p.Bias!.copy_(tensor(BiasValues));
        return p;
    }

    public static LoraAdapterConfig Config(int rank, double alpha, double dropout = 0) => new() { Rank = rank, Alpha = alpha, Dropout = dropout };

    /// <summary>Overwrites A and B of <paramref name="name"/> on every layer with seeded normal values, so B·A is not zero.</summary>
    public static void Randomize(LoraAdapters lora, string name, long seed)
    {
        using var generator = new TorchSharp.torch.Generator((ulong)seed, new Device(DeviceType.CPU));
        using var noGrad = no_grad();
        foreach (var (_, a, b) in lora.Weights(name))
        {
            using var ra = randn(a.shape, generator: generator);
            using var rb = randn(b.shape, generator: generator);
            a.copy_(ra);
            b.copy_(rb);
        }
    }

    public static void Set(Tensor target, float[] values)
    {
        using var noGrad = no_grad();
        using var source = tensor(values).reshape(target.shape);
        target.copy_(source);
    }
}
