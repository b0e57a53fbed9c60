using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Core;

/// <summary>
/// A linear map y = x·Wᵀ + b (W is d_out × d_in, PyTorch layout; parameter names <c>weight</c> and
/// <c>bias</c> as in Hugging Face state dicts) that can record MIGU's per-output-unit L1 magnitudes.
/// Every linear map of our models is one of these, so recording needs no hooks.
/// </summary>
public sealed class Projection : nn.Module<Tensor, Tensor>
{
    // Field names are the checkpoint keys.
    private readonly Parameter weight;
    private readonly Parameter? bias;

    public Projection(long inFeatures, long outFeatures, bool hasBias = true, ProjectionKind kind = ProjectionKind.Other, Device? device = null, ScalarType? dtype = null)
        : base(nameof(Projection))
    {
        if (inFeatures <= 0 || outFeatures <= 0)
        {
            throw new MiguUserException($"a projection needs positive sizes, got {inFeatures} → {outFeatures}");
        }

        InFeatures = inFeatures;
        OutFeatures = outFeatures;
        Kind = kind;
        weight = new Parameter(empty(outFeatures, inFeatures, dtype: dtype, device: device));
        if (hasBias)
        {
            bias = new Parameter(empty(outFeatures, dtype: dtype, device: device));
        }

        ResetParameters();
        RegisterComponents();
    }

    public long InFeatures { get; }

    public long OutFeatures { get; }

    /// <summary>The role of this projection in its block (query, FFN gate, …); MIGU selects layers by it.</summary>
    public ProjectionKind Kind { get; }

    public Parameter Weight => weight;

    public Parameter? Bias => bias;

    /// <summary>
    /// The fp32 accumulator (d_out) that recording adds Σ_tokens |y| into, or null when not
    /// recording. Owned by whoever installed it (the MIGU controller keeps layers of equal d_out
    /// as rows of one buffer, so masks are built in one batch).
    /// </summary>
    public Tensor? MagnitudeAccumulator { get; set; }

    /// <summary>nn.Linear's initialisation: Kaiming-uniform weights (a = √5), uniform bias in ±1/√d_in.</summary>
    public void ResetParameters()
    {
        using var noGrad = no_grad();
        nn.init.kaiming_uniform_(weight, a: Math.Sqrt(5));
        if (bias is not null)
        {
            double bound = 1.0 / Math.Sqrt(InFeatures);
            nn.init.uniform_(bias, -bound, bound);
        }
    }

    public override Tensor forward(Tensor input)
    {
        Tensor output = nn.functional.linear(input, weight, bias); // (…, d_out)
        if (MagnitudeAccumulator is not null)
        {
            Record(output);
        }

        return output;
    }

    /// <summary>Adds Σ over non-padding tokens of |y| per output unit into the accumulator, outside autograd.</summary>
    private void Record(Tensor output)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Tensor y = output.detach().reshape(-1, OutFeatures); // (N, d_out)
        Tensor? mask = TokenMask.Current; // (N) or null
        if (mask is not null && mask.shape[0] != y.shape[0])
        {
            throw new MiguUserException(
                $"the token mask in force has {mask.shape[0]} tokens but a projection ({InFeatures}→{OutFeatures}) saw {y.shape[0]}; wrap each token stream's forward in its own TokenMask.Use");
        }

        Tensor accumulator = MagnitudeAccumulator!;
        if (mask is not null && mask.device != y.device)
        {
            mask = mask.to(y.device); // a new tensor in this scope; the ambient one stays untouched
        }

        if (y.dtype == ScalarType.Float32)
        {
            // Two kernels: |y|, then one matrix-vector product straight into the fp32 accumulator
            // (measured faster on CPU than a fused L1 norm along the token dimension).
            accumulator.addmv_(y.abs().t(), mask ?? ones(y.shape[0], ScalarType.Float32, y.device));
        }
        else
        {
            // Low precision activations: reduce with an fp32 accumulator (the reference sums in bf16).
            Tensor absY = y.abs();
            if (mask is not null)
            {
                absY = absY.mul_(mask.to(y.dtype).unsqueeze(1));
            }

            accumulator.add_(absY.sum(0, type: ScalarType.Float32));
        }
    }

    public override string GetName() => $"Projection({InFeatures}→{OutFeatures}, {Kind})";
}
