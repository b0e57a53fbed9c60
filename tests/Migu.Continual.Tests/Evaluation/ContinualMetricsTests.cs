using Migu.Continual.Evaluation;

namespace Migu.Continual.Tests.Evaluation;

public sealed class ContinualMetricsTests
{
    // a[i][j]: task j after training task i. Task 0 improves after task 1, then drops.
    private static readonly double[][] Matrix =
    [
        [0.90, 0.10, 0.20],
        [0.95, 0.80, 0.30],
        [0.60, 0.50, 0.95],
    ];

    private static readonly double[] Baseline = [0.05, 0.15, 0.10];

    [Fact]
    public void Acc_is_the_mean_of_the_last_row()
    {
        Assert.Equal((0.60 + 0.50 + 0.95) / 3, ContinualMetrics.Acc(Matrix)!.Value, 12);
    }

    [Fact]
    public void Bwt_compares_the_last_row_with_the_diagonal()
    {
        // ((0.60 − 0.90) + (0.50 − 0.80)) / 2
        Assert.Equal(-0.30, ContinualMetrics.Bwt(Matrix)!.Value, 12);
    }

    [Fact]
    public void Fwt_compares_the_score_before_training_a_task_with_the_baseline()
    {
        // ((a[0][1] − b1) + (a[1][2] − b2)) / 2 = ((0.10 − 0.15) + (0.30 − 0.10)) / 2
        Assert.Equal(0.075, ContinualMetrics.Fwt(Matrix, Baseline)!.Value, 12);
    }

    [Fact]
    public void Forgetting_measures_the_drop_from_the_best_earlier_score()
    {
        // Task 0: max(0.90, 0.95) − 0.60 = 0.35; task 1: max(0.10, 0.80) − 0.50 = 0.30.
        Assert.Equal(0.325, ContinualMetrics.Forgetting(Matrix)!.Value, 12);
    }

    [Fact]
    public void A_run_in_progress_is_measured_on_the_tasks_trained_so_far()
    {
        double[][] twoRows = Matrix[..2];

        Assert.Equal((0.95 + 0.80) / 2, ContinualMetrics.Acc(twoRows)!.Value, 12);
        Assert.Equal(0.05, ContinualMetrics.Bwt(twoRows)!.Value, 12);
        Assert.Equal(-0.05, ContinualMetrics.Fwt(twoRows, Baseline)!.Value, 12);
        Assert.Equal(-0.05, ContinualMetrics.Forgetting(twoRows)!.Value, 12);
    }

    [Fact]
    public void Measures_that_need_two_tasks_or_a_baseline_are_null_without_them()
    {
        double[][] oneRow = Matrix[..1];

        Assert.Equal(0.90, ContinualMetrics.Acc(oneRow)!.Value, 12);
        Assert.Null(ContinualMetrics.Bwt(oneRow));
        Assert.Null(ContinualMetrics.Fwt(oneRow, Baseline));
        Assert.Null(ContinualMetrics.Forgetting(oneRow));
        Assert.Null(ContinualMetrics.Fwt(Matrix, baseline: null));
        Assert.Null(ContinualMetrics.Acc([]));
    }

    [Fact]
    public void Misshapen_matrices_are_caller_bugs()
    {
        Assert.Throws<ArgumentException>(() => ContinualMetrics.Acc([[0.1, 0.2], [0.3]]));
        Assert.Throws<ArgumentException>(() => ContinualMetrics.Acc([[0.1], [0.2]]));
        Assert.Throws<ArgumentException>(() => ContinualMetrics.Fwt(Matrix, [0.1, 0.2]));
    }
}
