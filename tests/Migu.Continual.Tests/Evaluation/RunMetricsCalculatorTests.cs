using System.Text.Json;
using Migu.Continual.Evaluation;
using Migu.Continual.Recipes;
using Migu.Continual.Runs;

namespace Migu.Continual.Tests.Evaluation;

public sealed class RunMetricsCalculatorTests
{
    private static readonly string[] Tasks = ["dbpedia", "amazon"];

    [Fact]
    public void A_finished_sequential_run_gets_every_measure()
    {
        RunMetrics metrics = RunMetricsCalculator.Sequential(
            Tasks,
            accuracy: [[0.8, 0.1], [0.6, 0.7]],
            macroF1: [[0.7, 0.05], [0.5, 0.6]],
            baselineAccuracy: [0.0, 0.2],
            baselineMacroF1: [0.0, 0.1]);

        Assert.Equal(Tasks, metrics.Tasks);
        Assert.Equal(0.65, metrics.Acc!.Value, 12);
        Assert.Equal(-0.2, metrics.Bwt!.Value, 12);
        Assert.Equal(-0.1, metrics.Fwt!.Value, 12);
        Assert.Equal(0.2, metrics.Forgetting!.Value, 12);
        Assert.Equal(0.55, metrics.MacroF1!.Value, 12);
        Assert.Equal([0.0, 0.2], metrics.BaselineAccuracy);
        Assert.True(metrics.Finished);
    }

    [Fact]
    public void A_run_in_progress_is_not_finished_and_lacks_what_one_task_cannot_give()
    {
        RunMetrics metrics = RunMetricsCalculator.Sequential(Tasks, [[0.8, 0.1]], [[0.7, 0.05]]);

        Assert.Equal(0.8, metrics.Acc!.Value, 12);
        Assert.Equal(0.7, metrics.MacroF1!.Value, 12);
        Assert.Null(metrics.Bwt);
        Assert.Null(metrics.Fwt);
        Assert.Null(metrics.Forgetting);
        Assert.False(metrics.Finished);
    }

    [Fact]
    public void The_joint_bound_averages_its_single_row()
    {
        RunMetrics metrics = RunMetricsCalculator.Joint(Tasks, [0.9, 0.6], [0.8, 0.5], baselineAccuracy: [0.1, 0.2]);

        Assert.Equal(0.75, metrics.Acc!.Value, 12);
        Assert.Equal(0.65, metrics.MacroF1!.Value, 12);
        Assert.Null(metrics.Bwt);
        Assert.Null(metrics.Fwt);
        Assert.Null(metrics.Forgetting);
        Assert.Single(metrics.AccuracyMatrix);
        Assert.True(metrics.Finished);
    }

    [Fact]
    public void Filled_metrics_round_trip_through_the_run_store_json()
    {
        RunMetrics metrics = RunMetricsCalculator.Sequential(Tasks, [[0.8, 0.1], [0.6, 0.7]], [[0.7, 0.05], [0.5, 0.6]], [0.0, 0.2]);

        string json = JsonSerializer.Serialize(metrics, RecipeJson.Options);
        RunMetrics back = JsonSerializer.Deserialize<RunMetrics>(json, RecipeJson.Options)!;

        Assert.Contains("\"accuracy_matrix\"", json, StringComparison.Ordinal);
        Assert.Equal(json, JsonSerializer.Serialize(back, RecipeJson.Options));
    }

    [Fact]
    public void Rows_that_do_not_match_the_tasks_are_caller_bugs()
    {
        Assert.Throws<ArgumentException>(() => RunMetricsCalculator.Sequential(Tasks, [[0.8]], [[0.7]]));
        Assert.Throws<ArgumentException>(() => RunMetricsCalculator.Sequential(Tasks, [[0.8, 0.1]], []));
        Assert.Throws<ArgumentException>(() => RunMetricsCalculator.Joint(Tasks, [0.9, 0.6], [0.8, 0.5], baselineAccuracy: [0.1]));
    }
}
