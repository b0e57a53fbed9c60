using System.Text.Json;
using Migu.Continual.Evaluation;
using Migu.Continual.Recipes;
using Migu.Continual.Runs;

namespace Migu.Continual.Tests.Evaluation;

public sealed class RunMetricsCalculatorTests
{
    private static readonly string[] Tasks = ["dbpedia", "amazon", "yelp"];

    // a[i][j]: task j after training task i. Task 0 peaks after task 1 (so forgetting is not −BWT),
    // and the macro-F1 matrix differs from the accuracy matrix everywhere.
    private static readonly double[][] Accuracy =
    [
        [0.80, 0.30, 0.10],
        [0.90, 0.70, 0.40],
        [0.50, 0.60, 0.75],
    ];

    private static readonly double[][] MacroF1 =
    [
        [0.70, 0.20, 0.05],
        [0.85, 0.65, 0.30],
        [0.40, 0.55, 0.70],
    ];

    private static readonly double[] BaselineAccuracy = [0.05, 0.20, 0.25];

    [Fact]
    public void A_finished_sequential_run_gets_every_measure_computed_by_hand()
    {
        RunMetrics metrics = RunMetricsCalculator.Sequential(Tasks, Accuracy, MacroF1, BaselineAccuracy, baselineMacroF1: [0.0, 0.1, 0.2]);

        // ACC = (0.50 + 0.60 + 0.75) / 3
        Assert.Equal(0.6166666666666667, metrics.Acc!.Value, 12);
        // BWT = ((0.50 − 0.80) + (0.60 − 0.70)) / 2
        Assert.Equal(-0.2, metrics.Bwt!.Value, 12);
        // FWT = ((a[0][1] − b1) + (a[1][2] − b2)) / 2 = ((0.30 − 0.20) + (0.40 − 0.25)) / 2
        Assert.Equal(0.125, metrics.Fwt!.Value, 12);
        // Forgetting = ((max(0.80, 0.90) − 0.50) + (max(0.30, 0.70) − 0.60)) / 2
        Assert.Equal(0.25, metrics.Forgetting!.Value, 12);
        // Macro-F1 = mean of the F1 matrix's last row = (0.40 + 0.55 + 0.70) / 3
        Assert.Equal(0.55, metrics.MacroF1!.Value, 12);
        Assert.Equal(Tasks, metrics.Tasks);
        Assert.Equal([0.05, 0.20, 0.25], metrics.BaselineAccuracy);
        Assert.Equal([0.0, 0.1, 0.2], metrics.BaselineMacroF1);
        Assert.True(metrics.Finished);
    }

    [Fact]
    public void A_run_in_progress_is_measured_on_the_tasks_trained_so_far()
    {
        RunMetrics metrics = RunMetricsCalculator.Sequential(Tasks, Accuracy[..2], MacroF1[..2], BaselineAccuracy);

        // Two tasks done: ACC = (0.90 + 0.70) / 2, BWT = 0.90 − 0.80, FWT = 0.30 − 0.20, forgetting = 0.80 − 0.90.
        Assert.Equal(0.8, metrics.Acc!.Value, 12);
        Assert.Equal(0.1, metrics.Bwt!.Value, 12);
        Assert.Equal(0.1, metrics.Fwt!.Value, 12);
        Assert.Equal(-0.1, metrics.Forgetting!.Value, 12);
        Assert.Equal(0.75, metrics.MacroF1!.Value, 12); // (0.85 + 0.65) / 2
        Assert.False(metrics.Finished);
    }

    [Fact]
    public void One_finished_task_lacks_what_one_task_cannot_give()
    {
        RunMetrics metrics = RunMetricsCalculator.Sequential(Tasks, Accuracy[..1], MacroF1[..1]);

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
        RunMetrics metrics = RunMetricsCalculator.Joint(Tasks, [0.9, 0.6, 0.75], [0.8, 0.5, 0.65], baselineAccuracy: [0.1, 0.2, 0.3]);

        Assert.Equal(0.75, metrics.Acc!.Value, 12);
        Assert.Equal(0.65, metrics.MacroF1!.Value, 12);
        Assert.Null(metrics.Bwt);
        Assert.Null(metrics.Fwt);
        Assert.Null(metrics.Forgetting);
        Assert.Single(metrics.AccuracyMatrix);
        Assert.True(metrics.Finished);
    }

    [Fact]
    public void The_run_store_json_holds_the_measures_under_their_names()
    {
        RunMetrics metrics = RunMetricsCalculator.Sequential(Tasks, Accuracy, MacroF1, BaselineAccuracy);

        JsonElement json = JsonDocument.Parse(JsonSerializer.Serialize(metrics, RecipeJson.Options)).RootElement;

        Assert.Equal(0.6166666666666667, json.GetProperty("acc").GetDouble(), 12);
        Assert.Equal(-0.2, json.GetProperty("bwt").GetDouble(), 12);
        Assert.Equal(0.125, json.GetProperty("fwt").GetDouble(), 12);
        Assert.Equal(0.25, json.GetProperty("forgetting").GetDouble(), 12);
        Assert.Equal(0.55, json.GetProperty("macro_f1").GetDouble(), 12);
        Assert.Equal(0.60, json.GetProperty("accuracy_matrix")[2][1].GetDouble());
        Assert.Equal(0.30, json.GetProperty("macro_f1_matrix")[1][2].GetDouble());
        Assert.Equal(0.25, json.GetProperty("baseline_accuracy")[2].GetDouble());
        Assert.True(json.GetProperty("finished").GetBoolean());
    }

    [Fact]
    public void Rows_that_do_not_match_the_tasks_are_caller_bugs()
    {
        Assert.Throws<ArgumentException>(() => RunMetricsCalculator.Sequential(Tasks, [[0.8]], [[0.7]]));
        Assert.Throws<ArgumentException>(() => RunMetricsCalculator.Sequential(Tasks, [[0.8, 0.1, 0.2]], []));
        Assert.Throws<ArgumentException>(() => RunMetricsCalculator.Joint(Tasks, [0.9, 0.6, 0.5], [0.8, 0.5, 0.4], baselineAccuracy: [0.1]));
    }
}
