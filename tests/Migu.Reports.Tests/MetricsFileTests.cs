using Migu.Core;
using Migu.Reports.Store;

namespace Migu.Reports.Tests;

public class MetricsFileTests
{
    private const string Finished = """
        {
          "schema": 1,
          "tasks": ["dbpedia", "amazon"],
          "accuracy_matrix": [[0.9, 0.1], [0.7, 0.8]],
          "macro_f1_matrix": [[0.85, 0.05], [0.6, 0.75]],
          "baseline_accuracy": [0.05, 0.1],
          "acc": 0.75, "bwt": -0.2, "fwt": 0.0, "forgetting": 0.2,
          "test_sizes": [100, 100],
          "timings": [{"task": "dbpedia", "train_seconds": 10.5, "eval_seconds": 1, "steps": 20, "train_tokens": 5000, "tokens_per_second": 476.2}],
          "total_seconds": 23.5,
          "finished": true,
          "a_field_from_a_later_runner": 1
        }
        """;

    [Fact]
    public void Reads_snake_case_metrics_and_ignores_unknown_fields()
    {
        var m = MetricsFile.Parse(Finished, "metrics.json");
        Assert.Equal(["dbpedia", "amazon"], m.Tasks);
        Assert.Equal(0.8, m.AccuracyMatrix[1][1]);
        Assert.Equal(0.1, m.BaselineAccuracy![1]);
        Assert.Equal(-0.2, m.Bwt);
        Assert.Equal(20, m.Timings[0].Steps);
        Assert.Equal(476.2, m.Timings[0].TokensPerSecond);
        Assert.True(m.Finished);
    }

    [Fact]
    public void A_run_in_progress_has_fewer_rows_and_no_summary()
    {
        var m = MetricsFile.Parse("""{"tasks": ["a", "b", "c"], "accuracy_matrix": [[0.5, 0.1, 0.2]], "macro_f1_matrix": [[0.5, 0.1, 0.2]], "baseline_accuracy": null, "finished": false}""", "m.json");
        Assert.Single(m.AccuracyMatrix);
        Assert.Null(m.Acc);
        Assert.Null(m.BaselineAccuracy);
        Assert.False(m.Finished);
    }

    [Theory]
    [InlineData("""{"tasks": ["a"], "accuracy_matrix": [[0.5]]""", "m.json: not valid metrics JSON")]
    [InlineData("""{"accuracy_matrix": [[0.5]], "macro_f1_matrix": [[0.5]]}""", "m.json: not valid metrics JSON")]
    [InlineData("""{"tasks": ["a"], "accuracy_matrix": [["x"]], "macro_f1_matrix": [[0.5]]}""", "m.json: not valid metrics JSON at $.accuracy_matrix[0][0]")]
    [InlineData("""{"tasks": [], "accuracy_matrix": [], "macro_f1_matrix": []}""", "m.json: tasks must be a non-empty list of names")]
    [InlineData("""{"tasks": ["a", "b"], "accuracy_matrix": [[0.5]], "macro_f1_matrix": [[0.5, 0.5]]}""", "m.json: accuracy_matrix row 0 has 1 values for 2 tasks")]
    [InlineData("""{"tasks": ["a"], "accuracy_matrix": [[0.5], [0.6]], "macro_f1_matrix": [[0.5]]}""", "m.json: accuracy_matrix has 2 rows for 1 tasks")]
    [InlineData("""{"tasks": ["a"], "accuracy_matrix": [[75.0]], "macro_f1_matrix": [[0.5]]}""", "m.json: accuracy_matrix row 0 has a value outside [0, 1]")]
    [InlineData("""{"tasks": ["a", "b"], "accuracy_matrix": [], "macro_f1_matrix": [], "baseline_accuracy": [0.1]}""", "m.json: baseline_accuracy has 1 values for 2 tasks")]
    [InlineData("""{"schema": 2, "tasks": ["a"], "accuracy_matrix": [], "macro_f1_matrix": []}""", "m.json: schema 2 is newer than this migu reads (1); update migu")]
    public void Malformed_metrics_give_one_line_naming_the_file(string json, string expectedStart)
    {
        var e = Assert.Throws<MiguUserException>(() => MetricsFile.Parse(json, "m.json"));
        Assert.StartsWith(expectedStart, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_missing_file_is_named()
    {
        string path = Path.Combine(Path.GetTempPath(), $"absent-{Guid.NewGuid():N}", "metrics.json");
        var e = Assert.Throws<MiguUserException>(() => MetricsFile.Load(path));
        Assert.Equal($"{path}: not found", e.Message);
    }
}
