using System.Text.Json.Nodes;

namespace Migu.Distributed.Tests;

/// <summary><c>--nproc N</c>: migu starts N ranks of its own command line with torchrun-style variables.</summary>
public sealed class LocalLauncherTests
{
    [Fact]
    public void One_local_rank_joins_a_job_of_one_through_the_launch_variables()
    {
        var (code, stdout, stderr) = ChildProcess.Dotnet("migu.dll", "dist-check", "--nproc", "1", "--device", "cpu", "--size-mb", "1", "--json");

        Assert.True(code == 0, stderr);
        JsonNode result = JsonNode.Parse(stdout.Trim().Split('\n')[^1])!;
        Assert.Equal("env", result["launcher"]!.GetValue<string>());
        Assert.Equal(1, result["world_size"]!.GetValue<int>());
        Assert.True(result["passed"]!.GetValue<bool>());
    }

    [Fact]
    public void Several_local_cpu_ranks_fail_together_saying_to_use_mpirun()
    {
        var (code, _, stderr) = ChildProcess.Dotnet("migu.dll", "dist-check", "--nproc=2", "--device", "cpu");

        Assert.Equal(2, code);
        Assert.Contains("mpirun -np 2", stderr, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("0")]
    [InlineData("two")]
    public void A_bad_process_count_is_one_line_and_exit_code_2(string n)
    {
        var (code, stdout, stderr) = ChildProcess.Dotnet("migu.dll", "dist-check", "--nproc", n);

        Assert.Equal(2, code);
        Assert.Equal($"error: --nproc needs a number of processes from 1 to 1024, got '{n}'", stderr.Trim());
        Assert.Empty(stdout);
    }

    [Fact]
    public void Nproc_inside_a_launched_job_is_refused()
    {
        var (code, _, stderr) = ChildProcess.Run(
            "dotnet",
            [Path.Combine(AppContext.BaseDirectory, "migu.dll"), "dist-check", "--nproc", "2"],
            new Dictionary<string, string> { ["RANK"] = "0", ["WORLD_SIZE"] = "2" });

        Assert.Equal(2, code);
        Assert.Contains("already started", stderr, StringComparison.Ordinal);
    }
}
