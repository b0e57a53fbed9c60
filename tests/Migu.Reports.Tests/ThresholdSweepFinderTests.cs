using Migu.Continual.Recipes;
using Migu.Continual.Runs;
using Migu.Core;
using Migu.Reports.Analysis;
using static Migu.Reports.Tests.RunGroupingTests;

namespace Migu.Reports.Tests;

public class ThresholdSweepFinderTests
{
    private static IReadOnlyList<ThresholdSweep> Sweeps(params Migu.Reports.Store.RunRecord[] runs) =>
        ThresholdSweepFinder.Find(RunGrouping.Group(runs).Groups);

    [Fact]
    public void Runs_that_differ_only_in_T_make_a_sweep_with_MIGU_off_as_its_baseline()
    {
        var sweep = Assert.Single(Sweeps(
            Run("t9", new Recipe { Migu = new MiguOptions { Threshold = 0.9 } }),
            Run("off", new Recipe()),
            Run("t5-s1", new Recipe { Migu = new MiguOptions { Threshold = 0.5 }, Seed = 1 }),
            Run("t5-s2", new Recipe { Migu = new MiguOptions { Threshold = 0.5 }, Seed = 2 })));
        Assert.Equal("ft+MIGU", sweep.Label);
        Assert.Equal([0.5, 0.9], sweep.Points.Select(p => p.Threshold));
        Assert.Equal(2, sweep.Points[0].Group.Runs.Count);
        Assert.Equal("ft", sweep.Baseline!.Label);
    }

    [Fact]
    public void With_and_without_MIGU_alone_is_not_a_sweep()
    {
        Assert.Empty(Sweeps(Run("off", new Recipe()), Run("on", new Recipe { Migu = new MiguOptions() })));
    }

    [Fact]
    public void Runs_that_differ_in_more_than_T_are_not_a_sweep()
    {
        Assert.Empty(Sweeps(
            Run("t5", new Recipe { Migu = new MiguOptions { Threshold = 0.5 } }),
            Run("t7-update", new Recipe { Migu = new MiguOptions { Threshold = 0.7, Mode = MiguMode.Update } })));
        Assert.Empty(Sweeps(
            Run("t5", new Recipe { Migu = new MiguOptions { Threshold = 0.5 } }),
            Run("t7-lr", new Recipe { Migu = new MiguOptions { Threshold = 0.7 }, Training = new TrainingSettings { Lr = 1e-3 } })));
        Assert.Empty(Sweeps(
            Run("t5", new Recipe { Migu = new MiguOptions { Threshold = 0.5 } }),
            Run("t7-lora", new Recipe { Method = "lora", Migu = new MiguOptions { Threshold = 0.7 } })));
    }

    [Fact]
    public void A_sweep_needs_no_baseline_and_each_mode_sweeps_separately()
    {
        var sweeps = Sweeps(
            Run("g5", new Recipe { Migu = new MiguOptions { Threshold = 0.5 } }),
            Run("g7", new Recipe { Migu = new MiguOptions { Threshold = 0.7 } }),
            Run("u5", new Recipe { Migu = new MiguOptions { Threshold = 0.5, Mode = MiguMode.Update } }),
            Run("u7", new Recipe { Migu = new MiguOptions { Threshold = 0.7, Mode = MiguMode.Update } }));
        Assert.Equal(["ft+MIGU", "ft+MIGU (update)"], sweeps.Select(s => s.Label).Order(StringComparer.Ordinal));
        Assert.All(sweeps, s => Assert.Null(s.Baseline));
    }

    [Fact]
    public void Sweeps_over_different_task_orders_are_labelled_by_their_task_set()
    {
        string[] first = ["dbpedia", "amazon"], second = ["amazon", "dbpedia"];
        RunMetrics Metrics(string[] tasks) => RunStoreBuilder.Metrics(tasks, [[0.9, 0.1], [0.7, 0.8]]);
        var sweeps = Sweeps(
            Run("a5", new Recipe { Tasks = first, Migu = new MiguOptions { Threshold = 0.5 } }, Metrics(first)),
            Run("a7", new Recipe { Tasks = first, Migu = new MiguOptions { Threshold = 0.7 } }, Metrics(first)),
            Run("b5", new Recipe { Tasks = second, Migu = new MiguOptions { Threshold = 0.5 } }, Metrics(second)),
            Run("b7", new Recipe { Tasks = second, Migu = new MiguOptions { Threshold = 0.7 } }, Metrics(second)));
        Assert.Equal(["ft+MIGU, tasks A", "ft+MIGU, tasks B"], sweeps.Select(s => s.Label).Order(StringComparer.Ordinal));
        Assert.All(sweeps, s => Assert.Single(s.Points.Select(p => p.Group.TaskSet).Distinct()));
    }
}
