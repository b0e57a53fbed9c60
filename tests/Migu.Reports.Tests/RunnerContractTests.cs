using Migu.Continual.Recipes;
using Migu.Continual.Runs;
using Migu.Continual.Training;
using Migu.Core;
using Migu.Reports.Store;

namespace Migu.Reports.Tests;

/// <summary>What the runner's <see cref="RunStore"/> writes is what the report reads.</summary>
public sealed class RunnerContractTests : IDisposable
{
    private readonly string _root = Directory.CreateTempSubdirectory("migu-contract-").FullName;

    public void Dispose() => Directory.Delete(_root, recursive: true);

    [Fact]
    public void The_loss_columns_are_the_runners_header()
    {
        Assert.Equal(RunStore.LossHeader, string.Join(',', LossLogFile.Columns));
    }

    [Fact]
    public void A_run_directory_written_by_the_runner_reads_back()
    {
        string[] tasks = ["agnews", "dbpedia"];
        var recipe = new Recipe { Tasks = tasks, Migu = new MiguOptions { Mode = MiguMode.Update }, Seed = 1024 };
        using var store = RunStore.Open(Path.Combine(_root, "run"), recipe);
        store.WriteMetrics(RunStoreBuilder.Metrics(tasks, [[0.8, 0.1]], [0.05, 0.1], seconds: 12.5));
        store.AppendLoss(0, new StepRecord(0, 1, 2, 0, 2.25, 0.25, 1e-4, 300), "agnews", 0.5);
        store.AppendLoss(1, new StepRecord(0, 2, 2, 0, 1.75, 0, 1e-4, 610), "agnews", 1.25);

        var run = RunReader.Load(store.Root);
        Assert.Equal(recipe.Seed, run.Recipe.Seed);
        Assert.Equal(MiguMode.Update, run.Recipe.Migu!.Mode);
        Assert.Equal(tasks, run.Metrics.Tasks);
        Assert.Equal([0.8, 0.1], run.Metrics.AccuracyMatrix[0]);
        Assert.False(run.Metrics.Finished);
        Assert.Equal(12.5, run.Metrics.TotalSeconds);
        // The runner logs task loss plus the strategy's extra loss.
        Assert.Equal(new LossPoint(0, 0, "agnews", 0, 2.5, 1e-4, 300, 0.5), run.Loss![0]);
        Assert.Equal(new LossPoint(1, 0, "agnews", 0, 1.75, 1e-4, 610, 1.25), run.Loss[1]);
    }
}
