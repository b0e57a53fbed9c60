using Migu.Core.Distributed;
using static TorchSharp.torch;

namespace Migu.Distributed.Tests;

public sealed class SingleProcessGroupTests
{
    [Fact]
    public void A_job_of_one_rank_passes_every_collective_check()
    {
        using var group = new SingleProcessGroup(CPU);

        var checks = CollectiveChecks.Run(group);

        Assert.All(checks, c => Assert.True(c.Passed, $"{c.Name}: {c.Detail}"));
        Assert.Equal(10, checks.Count);
    }

    [Fact]
    public void Collectives_of_one_rank_leave_values_alone_and_gather_its_own_bytes()
    {
        using var scope = NewDisposeScope();
        using var group = new SingleProcessGroup(CPU);
        Tensor t = tensor(new[] { 1.5f, -2f });

        group.AllReduce([t], ReduceOp.Sum);
        group.AllReduce([t], ReduceOp.Average);
        group.Broadcast([t], root: 0);

        Assert.Equal([1.5f, -2f], t.data<float>().ToArray());
        Assert.Equal([[7, 8]], group.AllGather(new byte[] { 7, 8 }));
        Assert.Throws<ArgumentOutOfRangeException>(() => group.Broadcast([t], root: 1));
    }

    [Fact]
    public void The_collective_checks_notice_a_group_that_does_not_sum()
    {
        // Two "ranks" whose all-reduce forgets the other rank's part: the sums come out wrong.
        var broken = new FakePeersGroup(0, 2) { Peers = (_, t) => zeros_like(t) };

        var checks = CollectiveChecks.Run(broken);

        Assert.Contains(checks, c => c.Name == "all-reduce sum Float32" && !c.Passed);
        Assert.Contains(checks, c => c.Name == "all-gather of bytes (rank r sends r + 1 bytes)" && !c.Passed);
    }
}
