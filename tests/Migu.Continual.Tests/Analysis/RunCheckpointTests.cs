using Migu.Continual.Analysis;
using Migu.Continual.Recipes;
using Migu.Continual.Runs;
using Migu.Core;

namespace Migu.Continual.Tests.Analysis;

/// <summary>Which checkpoint of a run directory the analysis loads; the directories are laid out as RunStore writes them.</summary>
public sealed class RunCheckpointTests : IDisposable
{
    private static readonly string[] Tasks = ["dbpedia", "amazon", "yelp"];
    private readonly string run = Path.Combine(Directory.CreateTempSubdirectory("migu-runckpt").FullName, "ft");

    public void Dispose() => Directory.Delete(Path.GetDirectoryName(run)!, recursive: true);

    private void Recipe(string model = "llama-tiny", string method = "ft") =>
        Write(RunStore.RecipeFile, RecipeJson.Serialize(new Recipe { Tasks = Tasks, Model = model, Method = method }));

    private void Metrics(int rows, bool finished) => Write(RunStore.MetricsFile, RunStore.SerializeMetrics(new RunMetrics
    {
        Tasks = Tasks,
        AccuracyMatrix = [.. Enumerable.Range(0, rows).Select(_ => (IReadOnlyList<double>)[0.5, 0.5, 0.5])],
        MacroF1Matrix = [.. Enumerable.Range(0, rows).Select(_ => (IReadOnlyList<double>)[0.5, 0.5, 0.5])],
        Finished = finished,
    }));

    private void Write(string relative, string text)
    {
        string path = Path.Combine(run, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
    }

    [Fact]
    public void A_finished_run_gives_its_last_task_checkpoint_and_no_note()
    {
        Recipe();
        Metrics(3, finished: true);
        foreach (string dir in new[] { "task-01-dbpedia", "task-02-amazon", "task-03-yelp" })
        {
            Write($"checkpoints/{dir}/config.json", "{}");
        }

        RunCheckpoint c = RunCheckpoint.Locate(run);

        Assert.Equal(Path.Combine(run, "checkpoints", "task-03-yelp"), c.Directory);
        Assert.Equal((2, 3, true), (c.Phase, c.Phases, c.Finished));
        Assert.Null(c.Note);
        Assert.Null(c.BaseModel);
        AnalysisSubject s = AnalysisSubject.ForRun(c);
        Assert.Equal(("ft", c.Directory, c.Directory), (s.Label, s.Model, s.TokenizerDirectory));
    }

    [Fact]
    public void An_unfinished_run_gives_its_newest_complete_checkpoint_and_says_so()
    {
        Recipe();
        Metrics(2, finished: false);
        Write("checkpoints/task-01-dbpedia/config.json", "{}");
        Write("checkpoints/task-02-amazon/config.json", "{}");
        Write("checkpoints/task-03-yelp.tmp/config.json", "{}"); // being written
        Directory.CreateDirectory(Path.Combine(run, "checkpoints", "task-04-half")); // neither weights nor adapters yet
        Write("checkpoints/mid/config.json", "{}");

        RunCheckpoint c = RunCheckpoint.Locate(run);

        Assert.EndsWith("task-02-amazon", c.Directory, StringComparison.Ordinal);
        Assert.False(c.Finished);
        Assert.Contains("unfinished run", c.Note, StringComparison.Ordinal);
        Assert.Contains("task-02-amazon, after phase 2 of 3", c.Note, StringComparison.Ordinal);
    }

    [Fact]
    public void A_lora_run_loads_its_adapters_over_the_saved_base()
    {
        Recipe(method: "inclora");
        Write("checkpoints/base/config.json", "{}");
        Write("checkpoints/task-01-dbpedia/adapters/task1/adapter_config.json", "{}");

        RunCheckpoint c = RunCheckpoint.Locate(run);

        Assert.Equal(Path.Combine(run, "checkpoints", "base"), c.BaseModel);
        Assert.Equal(Path.Combine(c.Directory, "adapters"), c.AdaptersDirectory);
        AnalysisSubject s = AnalysisSubject.ForRun(c);
        Assert.Equal((c.BaseModel, c.AdaptersDirectory, c.Directory), (s.Model, s.AdaptersDirectory, s.TokenizerDirectory));
    }

    [Fact]
    public void Directories_that_are_no_runs_or_hold_no_checkpoint_are_refused_in_one_line()
    {
        var missing = Assert.Throws<MiguUserException>(() => RunCheckpoint.Locate(run));
        Assert.Contains("no such run directory", missing.Message, StringComparison.Ordinal);

        Directory.CreateDirectory(run);
        var noRecipe = Assert.Throws<MiguUserException>(() => RunCheckpoint.Locate(run));
        Assert.Contains("no recipe.json; not a run directory", noRecipe.Message, StringComparison.Ordinal);

        Recipe();
        var empty = Assert.Throws<MiguUserException>(() => RunCheckpoint.Locate(run));
        Assert.Contains("no task checkpoint", empty.Message, StringComparison.Ordinal);

        Write("checkpoints/task-01-dbpedia/adapters/default/adapter_config.json", "{}");
        var noBase = Assert.Throws<MiguUserException>(() => RunCheckpoint.Locate(run));
        Assert.Contains("base model is missing", noBase.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', noBase.Message);
    }
}
