namespace Migu.Continual.Analysis;

/// <summary>
/// What <c>migu analyze</c> measured: per model, each task's magnitude distribution on one layer and
/// the task × task similarity of magnitude vectors over the selected layers, all on the same
/// samples. Round-trips through <see cref="MagnitudeAnalysisFile"/> (analysis.json).
/// </summary>
public sealed record MagnitudeAnalysis
{
    /// <summary>Version of this layout; readers refuse newer ones.</summary>
    public int Schema { get; init; } = MagnitudeAnalysisFile.CurrentSchema;

    /// <summary>The data root, or "embedded demo data".</summary>
    public required string Data { get; init; }

    /// <summary>Task names, in the order of every matrix row and distribution.</summary>
    public required IReadOnlyList<string> Tasks { get; init; }

    /// <summary>The split the samples came from.</summary>
    public required string Split { get; init; }

    /// <summary>Examples actually used per task (fewer than asked when a split is small).</summary>
    public required IReadOnlyList<int> Samples { get; init; }

    /// <summary>Seed of the sample draw.</summary>
    public required long Seed { get; init; }

    /// <summary>The layer selection the similarities average over (MIGU's layer syntax).</summary>
    public required string Layers { get; init; }

    public required IReadOnlyList<ModelMagnitudes> Models { get; init; }
}
