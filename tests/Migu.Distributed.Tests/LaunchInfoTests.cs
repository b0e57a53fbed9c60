using Migu.Core;
using Migu.Core.Distributed;

namespace Migu.Distributed.Tests;

public sealed class LaunchInfoTests
{
    private static LaunchInfo? Detect(params (string Name, string Value)[] variables)
    {
        var env = variables.ToDictionary(v => v.Name, v => v.Value);
        return LaunchInfo.Detect(name => env.GetValueOrDefault(name));
    }

    [Fact]
    public void No_launcher_variables_mean_a_lone_process()
    {
        Assert.Null(Detect());
        Assert.Null(Detect(("PATH", "/usr/bin"), ("MASTER_ADDR", "10.0.0.1")));
    }

    [Fact]
    public void Torchrun_style_variables_give_rank_size_local_rank_and_rendezvous()
    {
        LaunchInfo l = Detect(("RANK", "3"), ("WORLD_SIZE", "8"), ("LOCAL_RANK", "1"), ("MASTER_ADDR", "node7"), ("MASTER_PORT", "29500"))!;

        Assert.Equal((3, 8, 1, LauncherKind.Env, "node7", 29500), (l.Rank, l.WorldSize, l.LocalRank, l.Launcher, l.MasterAddress, l.MasterPort));
        Assert.False(l.IsMain);
        Assert.False(l.MpiLaunched);
    }

    [Fact]
    public void Open_mpi_variables_are_read_and_mark_an_mpi_launch()
    {
        LaunchInfo l = Detect(("OMPI_COMM_WORLD_RANK", "0"), ("OMPI_COMM_WORLD_SIZE", "4"), ("OMPI_COMM_WORLD_LOCAL_RANK", "0"))!;

        Assert.Equal((0, 4, 0, LauncherKind.OpenMpi), (l.Rank, l.WorldSize, l.LocalRank, l.Launcher));
        Assert.True(l.IsMain);
        Assert.True(l.MpiLaunched);
        Assert.Null(l.MasterAddress);
    }

    [Fact]
    public void Hydra_variables_are_read_and_a_missing_local_rank_falls_back_to_the_rank()
    {
        LaunchInfo withLocal = Detect(("PMI_RANK", "5"), ("PMI_SIZE", "6"), ("MPI_LOCALRANKID", "1"))!;
        LaunchInfo withoutLocal = Detect(("PMI_RANK", "5"), ("PMI_SIZE", "6"))!;

        Assert.Equal((5, 6, 1, LauncherKind.Pmi), (withLocal.Rank, withLocal.WorldSize, withLocal.LocalRank, withLocal.Launcher));
        Assert.Equal(5, withoutLocal.LocalRank);
    }

    [Fact]
    public void Srun_steps_are_launches_but_a_batch_script_alone_is_not()
    {
        LaunchInfo step = Detect(("SLURM_PROCID", "2"), ("SLURM_STEP_NUM_TASKS", "4"), ("SLURM_LOCALID", "0"), ("SLURM_NTASKS", "4"))!;

        Assert.Equal((2, 4, 0, LauncherKind.Slurm), (step.Rank, step.WorldSize, step.LocalRank, step.Launcher));
        Assert.True(step.MpiLaunched);
        Assert.Null(Detect(("SLURM_PROCID", "0"), ("SLURM_NTASKS", "4"), ("SLURM_LOCALID", "0")));
    }

    [Fact]
    public void Explicit_rank_variables_win_over_the_mpi_launcher_around_them()
    {
        LaunchInfo l = Detect(("RANK", "1"), ("WORLD_SIZE", "2"), ("OMPI_COMM_WORLD_RANK", "0"), ("OMPI_COMM_WORLD_SIZE", "1"))!;

        Assert.Equal((1, 2, LauncherKind.Env), (l.Rank, l.WorldSize, l.Launcher));
    }

    [Theory]
    [InlineData("2", "2", "RANK='2'")]
    [InlineData("-1", "2", "RANK='-1'")]
    [InlineData("0", "zero", "WORLD_SIZE='zero'")]
    [InlineData("0", "0", "WORLD_SIZE='0'")]
    public void Values_out_of_range_are_refused_naming_the_variable(string rank, string size, string named)
    {
        var e = Assert.Throws<MiguUserException>(() => Detect(("RANK", rank), ("WORLD_SIZE", size)));
        Assert.Contains(named, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_bad_master_port_is_refused()
    {
        var e = Assert.Throws<MiguUserException>(() => Detect(("RANK", "0"), ("WORLD_SIZE", "2"), ("MASTER_PORT", "70000")));
        Assert.Contains("MASTER_PORT='70000'", e.Message, StringComparison.Ordinal);
    }
}
