using Migu.Core.Distributed;
using static TorchSharp.torch;

namespace Migu.Distributed.Tests;

public sealed class GradientBucketsTests
{
    [Theory]
    [InlineData(16L)] // every gradient its own bucket, most larger than the cap
    [InlineData(256L)] // a few per bucket
    [InlineData(GradientBuckets.DefaultBucketBytes)] // one bucket per dtype
    public void Every_gradient_becomes_its_sum_over_ranks_in_place_whatever_the_buckets(long bucketBytes)
    {
        using var scope = NewDisposeScope();
        manual_seed(1);
        Tensor[] grads =
        [
            randn(5, 3),
            randn(4, 6).t(), // not contiguous
            randn(7, dtype: ScalarType.Float64),
            randn(2, 2, 2).to(ScalarType.BFloat16),
            randn(1),
        ];
        Tensor[] before = [.. grads.Select(g => g.clone())];

        GradientBuckets.SumAcrossRanks(new FakePeersGroup(0, 3), grads, bucketBytes);

        for (int i = 0; i < grads.Length; i++)
        {
            Assert.Equal(before[i].dtype, grads[i].dtype);
            Assert.True(grads[i].allclose(before[i].mul(3), rtol: 0, atol: 0), $"gradient {i}");
        }
    }

    [Fact]
    public void Buckets_keep_order_hold_one_dtype_and_stay_under_the_cap_unless_one_gradient_is_larger()
    {
        using var scope = NewDisposeScope();
        Tensor a = zeros(10); // 40 bytes
        Tensor b = zeros(10);
        Tensor c = zeros(30); // 120 bytes: larger than the cap
        Tensor d = zeros(5, dtype: ScalarType.Float64);
        Tensor e = zeros(5);

        var buckets = GradientBuckets.Plan([a, b, c, d, e], bucketBytes: 100);

        Assert.Equal(4, buckets.Count);
        Assert.Equal([a, b], buckets[0]);
        Assert.Equal([c], buckets[1]);
        Assert.Equal([e], buckets[2]); // fp32 buckets first, in order; then fp64
        Assert.Equal([d], buckets[3]);
    }

    [Fact]
    public void One_rank_leaves_gradients_untouched_without_a_collective()
    {
        using var scope = NewDisposeScope();
        var group = new FakePeersGroup(0, 1);
        Tensor g = ones(3);

        GradientBuckets.SumAcrossRanks(group, [g]);

        Assert.Equal(0, group.AllReduceCount);
        Assert.Equal([1f, 1f, 1f], g.data<float>().ToArray());
    }
}
