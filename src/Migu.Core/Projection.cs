using Migu.Core.Lora;
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

    // Built once: named in the error raised when the token mask in force does not fit.
    private readonly string recordingName;

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
        recordingName = $"a projection ({inFeatures}→{outFeatures})";
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

    /// <summary>
    /// The LoRA adapters attached to this projection, or null. The models call their projections
    /// directly, so LoRA hooks in here rather than by replacing modules; it is not a registered
    /// submodule, so the model's parameters, state dict and checkpoints stay as they are.
    /// </summary>
    public LoraLayer? Lora { get; internal set; }

    public override Tensor forward(Tensor input)
    {
        Tensor output = nn.functional.linear(input, weight, bias); // (…, d_out)
        if (Lora is not null)
        {
            output = Lora.AddTo(input, output, training); // x_O = x·Wᵀ + b + Σ s·(x·Aᵀ)·Bᵀ
        }

        if (MagnitudeAccumulator is not null)
        {
            MagnitudeRecorder.Add(MagnitudeAccumulator, output, recordingName);
        }

        return output;
    }

    public override string GetName() => $"Projection({InFeatures}→{OutFeatures}, {Kind})";
}
