using System.Text.Json.Serialization;
using Migu.Core.IO;

namespace Migu.Core;

/// <summary>How masked rows are treated by the optimizer step.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<MiguMode>))]
public enum MiguMode
{
    /// <summary>The paper: masked rows of ∇W are zeroed; Adam's momentum and weight decay still move them.</summary>
    Gradient,

    /// <summary>Strict: masked rows do not move at all (no moment update, no weight decay, no step).</summary>
    Update,
}

/// <summary>How the magnitudes become a mask.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<ThresholdRule>))]
public enum ThresholdRule
{
    /// <summary>The paper: keep the d_out − ⌊T·d_out⌋ largest units; ties go to the lower index.</summary>
    TopK,

    /// <summary>The reference code: keep units with n ≥ torch.quantile(n, T) (linear interpolation).</summary>
    Quantile,
}

/// <summary>What ranks the output units.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<MaskSource>))]
public enum MaskSource
{
    /// <summary>MIGU: the recorded L1 output magnitudes.</summary>
    Magnitude,

    /// <summary>The random-update baseline: ⌊T·d_out⌋ rows masked uniformly at random each step (seeded).</summary>
    Random,
}

/// <summary>MIGU's settings. Immutable; round-trips through JSON as part of a recipe.</summary>
public sealed record MiguOptions
{
    [Option("T in [0, 1): ⌊T·d_out⌋ output rows of each selected weight are masked per step (the flag turns MIGU on; off turns it off)", Flag = "--migu", Switches = "MIGU", ValueName = "T")]
    public double Threshold { get; init; } = 0.7;

    [Option("Which projections: all (attention and FFN), attention, ffn, head (the heads outside the blocks: lm_head, an MLM head's dense and tied decoder, a classifier; a tied head's rows are the word embedding's, so masking them freezes those rows too), a list of these and q, k, v, o joined by , or + (all+head), or re:REGEX on module names", Flag = "--migu-layers")]
    public string Layers { get; init; } = "all";

    [Option("Whether the first task of a sequence trains without MIGU, as in the reference code (true); the flag --migu-first-task applies MIGU from the first task", Flag = "--migu-first-task", Negated = true)]
    public bool SkipFirstTask { get; init; } = true;

    [Option("gradient (the paper: masked rows of ∇W are zeroed; Adam's momentum and weight decay still move them) or update (masked rows do not move at all; each row's bias correction counts its own steps)", Flag = "--migu-mode")]
    public MiguMode Mode { get; init; } = MiguMode.Gradient;

    [Option("top_k (the paper: keep the d − ⌊T·d⌋ largest units, ties to the lower index) or quantile (the reference code: keep n ≥ quantile(n, T))", Flag = "--migu-rule")]
    public ThresholdRule Rule { get; init; } = ThresholdRule.TopK;

    [Option("magnitude, or random: ⌊T·d⌋ rows masked uniformly at random each step (the random-update baseline; method random sets it)")]
    public MaskSource Source { get; init; } = MaskSource.Magnitude;

    [Option("Seed of the random masks (method random sets the run seed)")]
    public long Seed { get; init; } = 42;

    /// <summary>Throws <see cref="MiguUserException"/> naming the bad field.</summary>
    public void Validate()
    {
        if (double.IsNaN(Threshold) || Threshold < 0 || Threshold >= 1)
        {
            throw new MiguUserException($"MIGU threshold T must lie in [0, 1), got {Threshold}");
        }

        _ = LayerSelection.Parse(Layers);
    }
}
