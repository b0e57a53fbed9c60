using Migu.Continual.Runs;
using Migu.Core.Distributed;
using static TorchSharp.torch;

namespace Migu.Distributed.Tests;

/// <summary>The data-parallel code path with one rank is the single-process run, bit for bit.</summary>
public sealed class SingleRankRunTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("migu-dp1").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void A_run_through_a_one_rank_process_group_equals_the_plain_run()
    {
        string data = TaskFiles.Write(Path.Combine(root, "data"));
        var recipe = TaskFiles.LlamaFt(data, batch: 4, gradAccum: 2);
        string plain = Path.Combine(root, "plain");
        string grouped = Path.Combine(root, "grouped");

        new ContinualRunner(recipe, RunTasks.Load(recipe), plain).Run();
        using var group = new SingleProcessGroup(CPU);
        new ContinualRunner(recipe, RunTasks.Load(recipe), grouped, processGroup: group).Run();

        RunFiles.AssertSameTrajectory(plain, grouped, relative: 0);
    }
}
