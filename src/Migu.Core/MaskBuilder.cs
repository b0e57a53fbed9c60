using static TorchSharp.torch;

namespace Migu.Core;

/// <summary>
/// Turns magnitudes of many layers of equal width, stacked as one (L, d_out) tensor, into keep
/// masks (1 = the row keeps its gradient) in one batch of kernels, whatever L is.
/// </summary>
public static class MaskBuilder
{
    /// <summary>⌊T·d⌋: how many of <paramref name="width"/> units are masked at threshold <paramref name="threshold"/>.</summary>
    public static long MaskedCount(long width, double threshold) => (long)Math.Floor(threshold * width);

    /// <summary>
    /// The paper's rule: keep the d − ⌊T·d⌋ largest units of each row of <paramref name="magnitudes"/> (L, d).
    /// A stable descending sort makes ties deterministic: among equal magnitudes the lower index is kept.
    /// </summary>
    public static Tensor TopK(Tensor magnitudes, double threshold)
    {
        using var scope = NewDisposeScope();
        return TopKWithRows(magnitudes, threshold).Mask.MoveToOuterDisposeScope();
    }

    /// <summary>
    /// <see cref="TopK"/>'s mask and the indices of the kept units, (L, d − ⌊T·d⌋) int64, ascending
    /// in each row: the rows update mode moves, known without reading the mask back on the host
    /// (k is fixed, so no <c>nonzero</c> and no synchronisation is needed).
    /// </summary>
    public static (Tensor Mask, Tensor KeptRows) TopKWithRows(Tensor magnitudes, double threshold)
    {
        RequireMatrix(magnitudes);
        long width = magnitudes.shape[1];
        long keep = width - MaskedCount(width, threshold);
        using var scope = NewDisposeScope();
        var (_, order) = magnitudes.sort(dim: 1, descending: true, stable: true); // (L, d)
        Tensor kept = order.narrow(1, 0, keep); // (L, keep)
        Tensor mask = zeros_like(magnitudes, dtype: ScalarType.Float32)
            .scatter_(1, kept, ones(kept.shape, ScalarType.Float32, magnitudes.device));
        Tensor rows = kept.sort(dim: 1).Values; // ascending, as nonzero lists them
        return (mask.MoveToOuterDisposeScope(), rows.MoveToOuterDisposeScope());
    }

    /// <summary>
    /// The reference code's rule: q = quantile(n, T) per row (linear interpolation), keep n ≥ q.
    /// Ties at q are all kept, so more than d − ⌊T·d⌋ units may survive.
    /// </summary>
    public static Tensor Quantile(Tensor magnitudes, double threshold)
    {
        RequireMatrix(magnitudes);
        using var scope = NewDisposeScope();
        Tensor values = magnitudes.to(ScalarType.Float32);
        Tensor q = values.quantile(tensor(threshold, ScalarType.Float32, values.device), dim: 1, keepdim: true); // (L, 1)
        return values.ge(q).to(ScalarType.Float32).MoveToOuterDisposeScope();
    }

    /// <summary>The random-update baseline: exactly ⌊T·d⌋ rows of each layer masked uniformly at random.</summary>
    public static Tensor Random(long layers, long width, double threshold, Generator generator, Device device)
    {
        using var scope = NewDisposeScope();
        // Drawn on the CPU (TorchSharp's generators are CPU generators), so the masks are the same on any device.
        Tensor scores = rand([layers, width], generator: generator, dtype: ScalarType.Float32).to(device);
        return TopK(scores, threshold).MoveToOuterDisposeScope();
    }

    /// <summary><see cref="Random"/>'s mask and its kept units, as <see cref="TopKWithRows"/> gives them.</summary>
    public static (Tensor Mask, Tensor KeptRows) RandomWithRows(long layers, long width, double threshold, Generator generator, Device device)
    {
        using var scope = NewDisposeScope();
        Tensor scores = rand([layers, width], generator: generator, dtype: ScalarType.Float32).to(device);
        var (mask, rows) = TopKWithRows(scores, threshold);
        return (mask.MoveToOuterDisposeScope(), rows.MoveToOuterDisposeScope());
    }

    private static void RequireMatrix(Tensor magnitudes)
    {
        if (magnitudes.dim() != 2)
        {
            throw new MiguUserException($"magnitudes must be (layers, units), got shape [{string.Join(", ", magnitudes.shape)}]");
        }
    }
}
