using System.Globalization;
using Migu.Core;

namespace Migu.Continual.Analysis;

/// <summary>What <see cref="MagnitudeAnalyzer"/> feeds the models and which layers it looks at.</summary>
public sealed record MagnitudeAnalysisSettings
{
    /// <summary>Task data root in the CL_Benchmark layout; null = the embedded demo stream.</summary>
    public string? Data { get; init; }

    /// <summary>The tasks to compare, in the order the figures show them; null = the catalog's default order.</summary>
    public IReadOnlyList<string>? Tasks { get; init; }

    /// <summary>Examples per task (stratified by label, seeded); a split with fewer gives all it has.</summary>
    public int Samples { get; init; } = 64;

    /// <summary>Which split the samples come from: train, dev or test.</summary>
    public string Split { get; init; } = "test";

    /// <summary>The layers whose similarities are averaged, in MIGU's layer syntax (all, attention, ffn, q,k,v,o, re:REGEX).</summary>
    public string Layers { get; init; } = "all";

    /// <summary>The layer whose distributions are plotted: a module name or re:REGEX (first match); null = a middle FFN layer.</summary>
    public string? Layer { get; init; }

    /// <summary>Examples per forward pass (memory only: the sums do not depend on it beyond float rounding).</summary>
    public int Batch { get; init; } = 8;

    /// <summary>Prompt and answer token budgets, as the training recipe set them.</summary>
    public int MaxSourceLength { get; init; } = 512;

    public int MaxTargetLength { get; init; } = 50;

    /// <summary>An instructions file as in a recipe's data_options; null = built-in instructions.</summary>
    public string? Instructions { get; init; }

    /// <summary>Seed of the sample draw (and of a preset's random weights).</summary>
    public long Seed { get; init; } = 42;

    /// <summary>cpu, cuda, cuda:N or auto.</summary>
    public string Device { get; init; } = "cpu";

    /// <summary>Throws <see cref="MiguUserException"/> naming the bad setting.</summary>
    public void Validate()
    {
        if (Samples < 1)
        {
            throw new MiguUserException(string.Create(CultureInfo.InvariantCulture, $"--samples must be at least 1, got {Samples}"));
        }

        if (Batch < 1)
        {
            throw new MiguUserException(string.Create(CultureInfo.InvariantCulture, $"--batch must be at least 1, got {Batch}"));
        }

        if (Split.ToUpperInvariant() is not ("TRAIN" or "DEV" or "TEST"))
        {
            throw new MiguUserException($"--split: '{Split}' is not one of train, dev, test");
        }

        _ = LayerSelection.Parse(Layers, "--layers");
    }
}
