using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Core.Lora;

/// <summary>
/// One named adapter on one projection: A (r × d_in) and B (d_out × r), adding
/// s·(dropout(x)·Aᵀ)·Bᵀ to the projection's output. Owns A and B.
/// </summary>
public sealed class LoraAdapter : IDisposable
{
    // Built once: named in the error raised when the token mask in force does not fit.
    private readonly string recordingName;
    private bool disposed;

    /// <summary>
    /// A as nn.Linear initialises a weight (Kaiming-uniform with a = √5, which is U(−1/√d_in, 1/√d_in)),
    /// B zeros, so a new adapter leaves the layer's output unchanged. A is drawn on the CPU in fp32
    /// from <paramref name="generator"/>, so a seed gives the same A on every device and dtype, then
    /// moved to the projection weight's device and dtype.
    /// </summary>
    internal LoraAdapter(string name, string moduleName, LoraAdapterConfig config, Projection projection, Generator generator)
    {
        Name = name;
        Config = config;
        Scaling = config.Scaling;
        Tensor weight = projection.Weight;
        using (no_grad())
        {
            double bound = 1.0 / Math.Sqrt(projection.InFeatures); // gain √(2 / (1 + a²)) · √(3 / fan_in) with a = √5
            using Tensor drawn = empty([config.Rank, projection.InFeatures], ScalarType.Float32).uniform_(-bound, bound, generator);
            A = new Parameter(drawn.to(weight.dtype, weight.device), requires_grad: false); // (r, d_in)
            B = new Parameter(zeros([projection.OutFeatures, config.Rank], weight.dtype, weight.device), requires_grad: false); // (d_out, r)
        }

        // Owned here, not by whatever dispose scope the caller happens to be in.
        A.DetachFromDisposeScope();
        B.DetachFromDisposeScope();
        recordingName = $"LoRA A of adapter '{name}' on '{moduleName}' ({projection.InFeatures}→{config.Rank})";
    }

    public string Name { get; }

    public LoraAdapterConfig Config { get; }

    /// <summary>s = α / r (α / √r for rank-stabilised LoRA).</summary>
    public double Scaling { get; }

    /// <summary>A, (r, d_in): the down-projection, whose r output rows MIGU ranks by |x·Aᵀ|.</summary>
    public Parameter A { get; }

    /// <summary>B, (d_out, r): the up-projection, whose rows MIGU ranks by the whole layer output |x_O|.</summary>
    public Parameter B { get; }

    /// <summary>True while s·B·A has been added into the projection's weight (the adapter then adds nothing in forward).</summary>
    public bool Merged { get; internal set; }

    /// <summary>
    /// The fp32 (r) accumulator that forward adds Σ_tokens |x·Aᵀ| into (non-padding tokens, outside
    /// autograd), or null when not recording. Owned by whoever installed it (the MIGU controller).
    /// </summary>
    public Tensor? MagnitudeAccumulator { get; set; }

    /// <summary>ΔW = s·B·A, (d_out, d_in), in A's dtype; differentiable unless called under no_grad.</summary>
    public Tensor DeltaWeight()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        return B.matmul(A).mul_(Scaling);
    }

    /// <summary>Adds s·(dropout(x)·Aᵀ)·Bᵀ into <paramref name="output"/> (…, d_out) in place; temporaries go to the caller's scope.</summary>
    internal void AddTo(Tensor input, Tensor output, bool training)
    {
        Tensor x = training && Config.Dropout > 0 ? nn.functional.dropout(input, Config.Dropout, training: true) : input;
        Tensor h = nn.functional.linear(x, A); // (…, r)
        if (MagnitudeAccumulator is not null)
        {
            // A's outputs as this forward computed them (after dropout, which is A's actual input).
            MagnitudeRecorder.Add(MagnitudeAccumulator, h, recordingName);
        }

        output.add_(nn.functional.linear(h, B), Scaling); // (…, d_out)
    }

    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        MagnitudeAccumulator = null;
        A.Dispose();
        B.Dispose();
    }
}
