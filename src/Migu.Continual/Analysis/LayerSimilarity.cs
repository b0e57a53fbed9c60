namespace Migu.Continual.Analysis;

/// <summary>One layer's task × task cosine similarities of its magnitude vectors.</summary>
public sealed record LayerSimilarity
{
    /// <summary>Hugging Face module name, e.g. <c>encoder.block.0.layer.1.DenseReluDense.wi</c>.</summary>
    public required string Name { get; init; }

    /// <summary>The projection's role: query, key, value, attention_output, feed_forward_up, …</summary>
    public required string Kind { get; init; }

    /// <summary>[task][task] cosine similarity; NaN where the layer's output was all zeros on a task.</summary>
    public required double[][] Similarity { get; init; }

    /// <summary>The mean of the off-diagonal cells.</summary>
    public required double MeanOffDiagonal { get; init; }
}
