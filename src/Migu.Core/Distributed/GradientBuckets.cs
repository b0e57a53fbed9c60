using static TorchSharp.torch;

namespace Migu.Core.Distributed;

/// <summary>
/// Sums gradients over the ranks of a group in buckets, as PyTorch DDP does: gradients of one dtype
/// are packed in order into flat buffers of about <see cref="DefaultBucketBytes"/>, a few buffers
/// are reduced per call (one NCCL group launch), and the sums are copied back. A gradient as large
/// as a bucket is reduced where it lies. TorchSharp exposes no autograd hooks, so reduction starts
/// after the backward pass instead of overlapping with it.
/// </summary>
public static class GradientBuckets
{
    public const long DefaultBucketBytes = 32L << 20;

    /// <summary>Buckets reduced per collective call: bounds the extra memory to this many buckets.</summary>
    public const int BucketsPerCall = 8;

    /// <summary>Replaces every gradient by its sum over all ranks; every rank must pass gradients of the same shapes in the same order.</summary>
    public static void SumAcrossRanks(IProcessGroup group, IReadOnlyList<Tensor> gradients, long bucketBytes = DefaultBucketBytes)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentNullException.ThrowIfNull(gradients);
        ArgumentOutOfRangeException.ThrowIfLessThan(bucketBytes, 1);
        if (group.WorldSize == 1)
        {
            return;
        }

        using var noGrad = no_grad();
        List<List<Tensor>> buckets = Plan(gradients, bucketBytes);
        for (int start = 0; start < buckets.Count; start += BucketsPerCall)
        {
            using var scope = NewDisposeScope();
            var window = buckets.Skip(start).Take(BucketsPerCall).ToList();
            Tensor[] flats = [.. window.Select(Flatten)];
            group.AllReduce(flats, ReduceOp.Sum);
            for (int b = 0; b < window.Count; b++)
            {
                Unflatten(flats[b], window[b]);
            }
        }
    }

    /// <summary>Gradients in order, grouped into buckets of one dtype and at most <paramref name="bucketBytes"/> (a larger gradient alone).</summary>
    internal static List<List<Tensor>> Plan(IReadOnlyList<Tensor> gradients, long bucketBytes)
    {
        var buckets = new List<List<Tensor>>();
        foreach (var byType in gradients.GroupBy(g => g.dtype))
        {
            List<Tensor>? current = null;
            long bytes = 0;
            foreach (Tensor g in byType)
            {
                long size = g.numel() * g.element_size();
                if (current is null || bytes + size > bucketBytes)
                {
                    current = [];
                    buckets.Add(current);
                    bytes = 0;
                }

                current.Add(g);
                bytes += size;
            }
        }

        return buckets;
    }

    /// <summary>One flat buffer of a bucket; a bucket of one contiguous gradient is that gradient.</summary>
    private static Tensor Flatten(List<Tensor> bucket) =>
        bucket.Count == 1 && bucket[0].is_contiguous() ? bucket[0].view(-1) : cat([.. bucket.Select(g => g.reshape(-1))]);

    private static void Unflatten(Tensor flat, List<Tensor> bucket)
    {
        if (bucket.Count == 1 && bucket[0].is_contiguous())
        {
            return; // reduced in place through the view
        }

        long offset = 0;
        foreach (Tensor g in bucket)
        {
            long n = g.numel();
            g.copy_(flat.narrow(0, offset, n).view_as(g));
            offset += n;
        }
    }
}
