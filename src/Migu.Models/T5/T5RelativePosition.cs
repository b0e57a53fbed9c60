using static TorchSharp.torch;

namespace Migu.Models.T5;

/// <summary>
/// T5's relative position buckets, with transformers' arithmetic (fp32 log, truncation to int64), so
/// that every bucket, including those at the log-spaced boundaries, is the same.
/// </summary>
internal static class T5RelativePosition
{
    /// <summary>
    /// Buckets of <paramref name="relativePosition"/> (key − query, int64). Bidirectional (encoder): half
    /// the buckets for keys after the query. Causal (decoder): keys after the query share bucket 0.
    /// Distances below half the (directional) buckets are exact, then log-spaced up to max distance.
    /// </summary>
    public static Tensor Bucket(Tensor relativePosition, bool bidirectional, long numBuckets, long maxDistance)
    {
        using var scope = NewDisposeScope();
        Tensor buckets = zeros_like(relativePosition);
        Tensor distance;
        if (bidirectional)
        {
            numBuckets /= 2;
            buckets = relativePosition.gt(0).to(ScalarType.Int64).mul(numBuckets);
            distance = relativePosition.abs();
        }
        else
        {
            distance = relativePosition.clamp_max(0).neg();
        }

        long maxExact = numBuckets / 2;
        Tensor isSmall = distance.lt(maxExact);
        Tensor large = distance.to(ScalarType.Float32).div(maxExact).log()
            .div(Math.Log((double)maxDistance / maxExact))
            .mul(numBuckets - maxExact)
            .to(ScalarType.Int64)
            .add(maxExact)
            .clamp_max(numBuckets - 1);
        return buckets.add(where(isSmall, distance, large)).MoveToOuterDisposeScope();
    }
}
