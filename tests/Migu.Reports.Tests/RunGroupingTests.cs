using Migu.Continual.Recipes;
using Migu.Continual.Runs;
using Migu.Core;
using Migu.Reports.Analysis;
using Migu.Reports.Store;

namespace Migu.Reports.Tests;

public class RunGroupingTests
{
    private static readonly string[] Tasks = ["dbpedia", "amazon"];
    private static readonly RunMetrics Done = RunStoreBuilder.Metrics(Tasks, [[0.9, 0.1], [0.7, 0.8]]);

    internal static RunRecord Run(string name, Recipe recipe, RunMetrics? metrics = null) =>
        new() { Name = name, Directory = "/runs/" + name, Recipe = recipe, Metrics = metrics ?? Done };

    [Fact]
    public void Seeds_of_one_configuration_are_pooled_and_labelled_by_method_and_migu()
    {
        RunRecord[] runs =
        [
            Run("lora-u", new Recipe { Method = "lora", Migu = new MiguOptions { Mode = MiguMode.Update }, Seed = 1 }),
            Run("ft-migu-2", new Recipe { Migu = new MiguOptions(), Seed = 2, Device = "cuda" }),
            Run("ft-1", new Recipe { Seed = 1 }),
            Run("ft-migu-1", new Recipe { Migu = new MiguOptions { Seed = 7 }, Seed = 1 }),
            Run("ft-2", new Recipe { Seed = 2 }),
            Run("mtl", new Recipe { Method = "mtl" }),
        ];
        var (groups, sets) = RunGrouping.Group(runs);
        Assert.Equal(["ft", "ft+MIGU", "lora+MIGU (update)", "mtl"], groups.Select(g => g.Label));
        Assert.Equal(["ft-1", "ft-2"], groups[0].Runs.Select(r => r.Name));
        Assert.Equal(["ft-migu-1", "ft-migu-2"], groups[1].Runs.Select(r => r.Name));
        Assert.Single(sets.Sets);
        Assert.All(groups, g => Assert.Equal("A", g.TaskSet));
    }

    [Fact]
    public void The_order_of_the_groups_does_not_depend_on_the_order_of_the_runs()
    {
        RunRecord[] runs =
        [
            Run("a", new Recipe { Method = "olora" }),
            Run("b", new Recipe { Migu = new MiguOptions() }),
            Run("c", new Recipe()),
            Run("d", new Recipe { Method = "lora", Migu = new MiguOptions() }),
        ];
        var forward = RunGrouping.Group(runs).Groups.Select(g => g.Label).ToList();
        var backward = RunGrouping.Group([.. runs.Reverse()]).Groups.Select(g => g.Label).ToList();
        Assert.Equal(["ft", "ft+MIGU", "lora+MIGU", "olora"], forward);
        Assert.Equal(forward, backward);
    }

    [Fact]
    public void Groups_sharing_a_label_are_told_apart_by_the_fields_that_differ()
    {
        RunRecord[] runs =
        [
            Run("t5", new Recipe { Migu = new MiguOptions { Threshold = 0.5 } }),
            Run("t7", new Recipe { Migu = new MiguOptions { Threshold = 0.7 } }),
            Run("lr", new Recipe { Migu = new MiguOptions { Threshold = 0.7 }, Training = new TrainingSettings { Lr = 3e-4 } }),
        ];
        var labels = RunGrouping.Group(runs).Groups.Select(g => g.Label).ToList();
        Assert.Equal(["ft+MIGU (T=0.5, lr=0.0001)", "ft+MIGU (T=0.7, lr=0.0001)", "ft+MIGU (T=0.7, lr=0.0003)"], labels);
    }

    [Fact]
    public void Different_task_lists_are_different_groups_with_their_own_letter()
    {
        string[] other = ["amazon", "dbpedia"];
        RunRecord[] runs =
        [
            Run("order1", new Recipe { Tasks = Tasks }),
            Run("order2", new Recipe { Tasks = other }, RunStoreBuilder.Metrics(other, [[0.9, 0.1], [0.7, 0.8]])),
        ];
        var (groups, sets) = RunGrouping.Group(runs);
        Assert.Equal(2, sets.Sets.Count);
        Assert.Equal(["A", "B"], groups.Select(g => g.TaskSet));
        Assert.Equal(["ft (tasks=A)", "ft (tasks=B)"], groups.Select(g => g.Label));
    }

    [Fact]
    public void Statistics_pool_finished_runs_only()
    {
        var running = RunStoreBuilder.Metrics(["a", "b", "c"], [[0.9, 0.1, 0.1]]);
        RunRecord[] runs =
        [
            Run("s1", new Recipe { Seed = 1 }, RunStoreBuilder.Metrics(["a", "b", "c"], [[0.9, 0.1, 0.1], [0.8, 0.9, 0.1], [0.6, 0.7, 0.8]])),
            Run("s2", new Recipe { Seed = 2 }, RunStoreBuilder.Metrics(["a", "b", "c"], [[0.9, 0.1, 0.1], [0.8, 0.9, 0.1], [0.64, 0.74, 0.84]])),
            Run("s3", new Recipe { Seed = 3 }, running),
        ];
        var g = Assert.Single(RunGrouping.Group(runs).Groups);
        Assert.Equal(1, g.InProgress);
        Assert.Equal(2, g.Acc.Count);
        // ACC 0.70 and 0.74: mean 0.72, sample std √((0.02² + 0.02²) / 1) = 0.02828…
        Assert.Equal(0.72, g.Acc.Mean, 12);
        Assert.Equal(Math.Sqrt(0.0008), g.Acc.Std!.Value, 12);
    }
}
