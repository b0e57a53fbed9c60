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
    // Field names are the checkpoint keys; both are null in a tied projection, which owns nothing.
    private readonly Parameter? weight;
    private readonly Parameter? bias;

    // A tied projection's weight and bias, read at each use from the modules that own them.
    private readonly Func<Parameter>? tiedWeight;
    private readonly Func<Parameter?>? tiedBias;

    // Built once: named in the error raised when the token mask in force does not fit.
    private readonly string recordingName;

    public Projection(long inFeatures, long outFeatures, bool hasBias = true, ProjectionKind kind = ProjectionKind.Other, Device? device = null, ScalarType? dtype = null)
        : this(inFeatures, outFeatures, kind)
    {
        weight = new Parameter(empty(outFeatures, inFeatures, dtype: dtype, device: device));
        if (hasBias)
        {
            bias = new Parameter(empty(outFeatures, dtype: dtype, device: device));
        }

        ResetParameters();
        RegisterComponents();
    }

    private Projection(Func<Parameter> weight, Func<Parameter?> bias, ProjectionKind kind)
        : this(weight().shape[1], weight().shape[0], kind)
    {
        tiedWeight = weight;
        tiedBias = bias;
        RegisterComponents(); // no parameter of its own: the owners list them, once, under their names
    }

    private Projection(long inFeatures, long outFeatures, ProjectionKind kind)
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
    }

    /// <summary>
    /// A projection that computes with other modules' weight (d_out × d_in) and bias: a tied head such
    /// as RoBERTa's masked-LM decoder, whose weight is the word embedding. It registers no parameter,
    /// so the model lists each tensor once, under its owner's name, and moving or converting the
    /// model converts it once; the getters read whatever the owners hold now. It is still a
    /// projection: it records magnitudes, and MIGU and LoRA can select it (masking its rows masks
    /// the owner's rows, since they are one tensor).
    /// </summary>
    public static Projection Tied(Func<Parameter> weight, Func<Parameter?> bias, ProjectionKind kind)
    {
        ArgumentNullException.ThrowIfNull(weight);
        ArgumentNullException.ThrowIfNull(bias);
        return new Projection(weight, bias, kind);
    }

    public long InFeatures { get; }

    public long OutFeatures { get; }

    /// <summary>The role of this projection in its block (query, FFN gate, …); MIGU selects layers by it.</summary>
    public ProjectionKind Kind { get; }

    public Parameter Weight => weight ?? tiedWeight!();

    public Parameter? Bias => tiedBias is null ? bias : tiedBias();

    /// <summary>True when the weight belongs to another module (<see cref="Tied"/>).</summary>
    public bool IsTied => tiedWeight is not null;

    /// <summary>
    /// The fp32 accumulator (d_out) that recording adds Σ_tokens |y| into, or null when not
    /// recording. Owned by whoever installed it (the MIGU controller keeps layers of equal d_out
    /// as rows of one buffer, so masks are built in one batch).
    /// </summary>
    public Tensor? MagnitudeAccumulator { get; set; }

    /// <summary>
    /// nn.Linear's initialisation: Kaiming-uniform weights (a = √5), uniform bias in ±1/√d_in. A tied
    /// projection is left alone: its weights are its owners' to initialise.
    /// </summary>
    public void ResetParameters()
    {
        if (weight is null)
        {
            return;
        }

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
        Tensor output = nn.functional.linear(input, Weight, Bias); // (…, d_out)
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

    public override string GetName() => $"Projection({InFeatures}→{OutFeatures}, {Kind}{(IsTied ? ", tied" : string.Empty)})";
}
