namespace Migu.Continual.Analysis;

/// <summary>The analysis of one model: its distributions on the plotted layer and its task similarities.</summary>
public sealed record ModelMagnitudes
{
    /// <summary>How tables and figures name the model.</summary>
    public required string Label { get; init; }

    /// <summary>The checkpoint directory or preset that was loaded (for LoRA-type runs, the base model).</summary>
    public required string Model { get; init; }

    /// <summary>The run directory the model came from, or null.</summary>
    public string? Run { get; init; }

    /// <summary>The LoRA adapters folder that was attached, or null.</summary>
    public string? Adapters { get; init; }

    /// <summary>What a reader should know, e.g. that the run is unfinished; null when nothing.</summary>
    public string? Note { get; init; }

    /// <summary>The module name of the plotted layer.</summary>
    public required string DistributionLayer { get; init; }

    /// <summary>[task][unit]: the plotted layer's Σ|y| per output unit, L1-normalised per task, in unit order.</summary>
    public required double[][] Distributions { get; init; }

    /// <summary>[task][task]: cosine similarity of the magnitude vectors, averaged over the selected layers.</summary>
    public required double[][] Similarity { get; init; }

    /// <summary>The mean of <see cref="Similarity"/>'s off-diagonal cells: lower = tasks use more distinct units.</summary>
    public required double MeanOffDiagonal { get; init; }

    /// <summary>Every selected layer's own similarity matrix, in module order.</summary>
    public required IReadOnlyList<LayerSimilarity> Layers { get; init; }
}
