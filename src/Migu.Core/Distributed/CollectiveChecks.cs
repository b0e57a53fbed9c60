using System.Diagnostics;
using System.Globalization;
using static TorchSharp.torch;

namespace Migu.Core.Distributed;

/// <summary>
/// Checks that a process group computes what its collectives promise, with values each rank can
/// predict (rank r contributes r + 1, so sums are W(W+1)/2), and measures all-reduce bandwidth the
/// way nccl-tests reports it. <c>migu dist-check</c> runs these on a launched job.
/// </summary>
public static class CollectiveChecks
{
    /// <summary>Runs every check on this rank (every rank must call it); the results are this rank's.</summary>
    public static IReadOnlyList<CollectiveCheck> Run(IProcessGroup group)
    {
        ArgumentNullException.ThrowIfNull(group);
        using var noGrad = no_grad();
        int w = group.WorldSize;
        int r = group.Rank;
        Device d = group.Device;
        double triangle = w * (w + 1) / 2.0;
        var results = new List<CollectiveCheck>();
        void Check(string name, Func<(Tensor Seen, Tensor Expected)> body)
        {
            using var scope = NewDisposeScope();
            var (seen, expected) = body();
            bool ok = seen.shape.SequenceEqual(expected.shape) && seen.to(ScalarType.Float64).cpu().allclose(expected.to(ScalarType.Float64).cpu(), rtol: 0, atol: 0, equal_nan: false);
            results.Add(new CollectiveCheck(name, ok, ok ? "as expected" : $"expected {Show(expected)}, got {Show(seen)}"));
        }

        foreach (ScalarType dtype in new[] { ScalarType.Float32, ScalarType.Float64, ScalarType.BFloat16 })
        {
            Check($"all-reduce sum {dtype}", () =>
            {
                Tensor t = full(1000, r + 1, dtype, d);
                group.AllReduce([t], ReduceOp.Sum);
                return (t, full(1000, triangle, dtype, d));
            });
        }

        Check("all-reduce average Float32", () =>
        {
            Tensor t = full(257, r + 1, ScalarType.Float32, d);
            group.AllReduce([t], ReduceOp.Average);
            return (t, full(257, (w + 1) / 2.0, ScalarType.Float32, d));
        });
        Check("all-reduce sum Int64 (exact beyond fp64's integers)", () =>
        {
            const long big = 1L << 60;
            Tensor t = full(3, big / w + r, ScalarType.Int64, d);
            group.AllReduce([t], ReduceOp.Sum);
            long expected = (big / w * w) + (w * (w - 1) / 2);
            return (t.sub(expected), zeros(3, ScalarType.Int64, d)); // compared as a difference: fp64 cannot hold 2^60 + small
        });
        Check("all-reduce of several tensors, one not contiguous", () =>
        {
            Tensor a = full(new long[] { 4, 6 }, r + 1, ScalarType.Float32, d);
            Tensor b = arange(12, ScalarType.Float32, d).reshape(3, 4).t().mul(r + 1); // (4, 3), a transposed view
            group.AllReduce([a, b], ReduceOp.Sum);
            return (cat([a.reshape(-1), b.reshape(-1)]), cat([full(24, triangle, ScalarType.Float32, d), arange(12, ScalarType.Float32, d).reshape(3, 4).t().reshape(-1).mul(triangle)]));
        });
        Check($"broadcast from rank {w - 1}", () =>
        {
            Tensor t = arange(1000, ScalarType.Float32, d).mul(r + 1);
            group.Broadcast([t], root: w - 1);
            return (t, arange(1000, ScalarType.Float32, d).mul(w));
        });
        Check("gradient buckets (small buckets, mixed shapes)", () =>
        {
            Tensor[] grads = [full(new long[] { 3, 5 }, r + 1, ScalarType.Float32, d), full(7, 2 * (r + 1), ScalarType.Float32, d), full(new long[] { 2, 2, 2 }, -(r + 1), ScalarType.Float32, d)];
            GradientBuckets.SumAcrossRanks(group, grads, bucketBytes: 64);
            return (cat([.. grads.Select(g => g.reshape(-1))]), cat([full(15, triangle, ScalarType.Float32, d), full(7, 2 * triangle, ScalarType.Float32, d), full(8, -triangle, ScalarType.Float32, d)]));
        });

        byte[][] gathered = group.AllGather(Enumerable.Repeat((byte)r, r + 1).ToArray());
        bool gatherOk = gathered.Length == w && gathered.Select((g, i) => g.Length == i + 1 && g.All(b => b == i)).All(x => x);
        results.Add(new CollectiveCheck("all-gather of bytes (rank r sends r + 1 bytes)", gatherOk, gatherOk ? "as expected" : $"lengths {string.Join(",", gathered.Select(g => g.Length))}"));

        group.Barrier();
        results.Add(new CollectiveCheck("barrier", true, "returned"));
        return results;
    }

    /// <summary>
    /// Times <paramref name="iterations"/> all-reduces of <paramref name="bytes"/> of fp32 after two
    /// warm-up calls. Algorithm bandwidth is bytes / time; bus bandwidth scales it by 2(W − 1)/W, the
    /// share each link carries in a ring, so it is comparable across world sizes.
    /// </summary>
    public static (double SecondsPerCall, double AlgorithmGBps, double BusGBps) MeasureAllReduce(IProcessGroup group, long bytes, int iterations)
    {
        ArgumentNullException.ThrowIfNull(group);
        ArgumentOutOfRangeException.ThrowIfLessThan(bytes, 4);
        ArgumentOutOfRangeException.ThrowIfLessThan(iterations, 1);
        using var scope = NewDisposeScope();
        Tensor t = ones(bytes / 4, ScalarType.Float32, group.Device);
        for (int i = 0; i < 2; i++)
        {
            group.AllReduce([t], ReduceOp.Average);
        }

        group.Barrier();
        var clock = Stopwatch.StartNew();
        for (int i = 0; i < iterations; i++)
        {
            group.AllReduce([t], ReduceOp.Average); // the average of ones stays one: no overflow however long
        }

        group.Barrier(); // waits for the device, so the clock covers the transfers
        double seconds = clock.Elapsed.TotalSeconds / iterations;
        double algorithm = bytes / seconds / 1e9;
        int w = group.WorldSize;
        return (seconds, algorithm, w == 1 ? algorithm : algorithm * 2 * (w - 1) / w);
    }

    private static string Show(Tensor t)
    {
        double[] values = t.to(ScalarType.Float64).cpu().reshape(-1).data<double>().Take(4).ToArray();
        return "[" + string.Join(", ", values.Select(v => v.ToString("G6", CultureInfo.InvariantCulture))) + (t.numel() > 4 ? ", …]" : "]");
    }
}
