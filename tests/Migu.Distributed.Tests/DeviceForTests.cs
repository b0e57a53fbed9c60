using Migu.Core;
using Migu.Core.Distributed;

namespace Migu.Distributed.Tests;

public sealed class DeviceForTests
{
    private static LaunchInfo Rank(int rank, int world, int local) => new() { Rank = rank, WorldSize = world, LocalRank = local, Launcher = LauncherKind.Env };

    [Theory]
    [InlineData("cuda", 1, 4, "cuda:1")]
    [InlineData("auto", 3, 4, "cuda:3")]
    [InlineData("CUDA", 0, 8, "cuda:0")]
    public void Each_rank_takes_the_gpu_of_its_local_rank(string requested, int local, int gpus, string expected) =>
        Assert.Equal(expected, ProcessGroups.DeviceFor(Rank(local + 4, 8, local), requested, gpus));

    [Fact]
    public void A_launcher_that_shows_each_rank_one_gpu_gets_cuda_0() =>
        Assert.Equal("cuda:0", ProcessGroups.DeviceFor(Rank(5, 8, 1), "cuda", visibleGpus: 1));

    [Fact]
    public void The_cpu_stays_the_cpu_and_auto_without_gpus_is_the_cpu()
    {
        Assert.Equal("cpu", ProcessGroups.DeviceFor(Rank(1, 2, 1), "cpu", 4));
        Assert.Equal("cpu", ProcessGroups.DeviceFor(Rank(1, 2, 1), "auto", 0));
    }

    [Fact]
    public void One_named_gpu_is_kept_for_one_rank_but_refused_for_several()
    {
        Assert.Equal("cuda:2", ProcessGroups.DeviceFor(Rank(0, 1, 0), "cuda:2", 4));
        var e = Assert.Throws<MiguUserException>(() => ProcessGroups.DeviceFor(Rank(0, 2, 0), "cuda:2", 4));
        Assert.Contains("--device cuda", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void More_local_ranks_than_gpus_are_refused()
    {
        var e = Assert.Throws<MiguUserException>(() => ProcessGroups.DeviceFor(Rank(2, 3, 2), "cuda", 2));
        Assert.Contains("local rank 2", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Several_cpu_ranks_without_mpi_are_refused_with_the_launch_that_works()
    {
        var e = Assert.Throws<MiguUserException>(() => ProcessGroups.Create(Rank(0, 2, 0), TorchSharp.torch.CPU));
        Assert.Contains("mpirun -np 2", e.Message, StringComparison.Ordinal);
        Assert.IsType<SingleProcessGroup>(ProcessGroups.Create(Rank(0, 1, 0), TorchSharp.torch.CPU));
    }
}
