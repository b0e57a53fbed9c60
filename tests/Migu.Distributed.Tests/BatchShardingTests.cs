using Migu.Continual.Distributed;
using Migu.Continual.Training;

namespace Migu.Distributed.Tests;

public sealed class BatchShardingTests
{
    [Theory]
    [InlineData(8, 1, 2)]
    [InlineData(8, 2, 2)]
    [InlineData(7, 1, 3)]
    [InlineData(10, 3, 2)]
    [InlineData(3, 1, 4)] // fewer examples than micro-batches: the last rank gets none
    public void The_ranks_together_compute_one_process_micro_batches_with_world_times_grad_accum(int size, int gradAccum, int world)
    {
        int[] batch = [.. Enumerable.Range(100, size)];
        int[][] single = [.. TaskTrainer.Split(batch, world * gradAccum)];

        var shards = Enumerable.Range(0, world).Select(r => BatchSharding.MicroBatches(batch, gradAccum, r, world)).ToList();

        var all = shards.SelectMany(s => s).OrderBy(m => m.Index).ToList();
        Assert.Equal(single.Length, all.Count);
        for (int i = 0; i < single.Length; i++)
        {
            Assert.Equal(i, all[i].Index);
            Assert.Equal(single[i], all[i].Examples);
        }

        Assert.All(shards, s => Assert.True(s.Count <= gradAccum));
        Assert.Equal(batch, shards.SelectMany(s => s).SelectMany(m => m.Examples).Order());
    }

    [Fact]
    public void Rank_r_takes_the_r_th_run_of_grad_accum_micro_batches()
    {
        int[] batch = [0, 1, 2, 3, 4, 5, 6, 7];

        var rank1 = BatchSharding.MicroBatches(batch, gradAccum: 2, rank: 1, worldSize: 2);

        Assert.Equal([2, 3], rank1.Select(m => m.Index));
        Assert.Equal([[4, 5], [6, 7]], rank1.Select(m => m.Examples));
    }

    [Fact]
    public void A_rank_outside_the_world_is_a_bug() =>
        Assert.Throws<ArgumentOutOfRangeException>(() => BatchSharding.MicroBatches([1, 2], 1, rank: 2, worldSize: 2));
}
