using Migu.Continual.Recipes;
using Migu.Core;
using Migu.Reports.Store;

namespace Migu.Reports.Tests;

public sealed class RunReaderTests : IDisposable
{
    private static readonly string[] Tasks = ["dbpedia", "amazon"];
    private readonly RunStoreBuilder _store = new();

    public void Dispose() => _store.Dispose();

    [Fact]
    public void Loads_recipe_metrics_and_loss_of_a_run_directory()
    {
        string dir = _store.AddRun("ft-s42", new Recipe { Tasks = Tasks, Seed = 42 }, RunStoreBuilder.Metrics(Tasks, [[0.9, 0.1], [0.7, 0.8]]), RunStoreBuilder.Loss(Tasks, 3));
        var run = RunReader.Load(dir);
        Assert.Equal("ft-s42", run.Name);
        Assert.Equal(42, run.Recipe.Seed);
        Assert.Equal(0.75, run.Metrics.Acc!.Value, 12);
        Assert.Equal(6, run.Loss!.Count);
        Assert.Equal(2, run.CompletedRows);
    }

    [Fact]
    public void A_run_without_loss_csv_still_loads()
    {
        string dir = _store.AddRun("r", new Recipe(), RunStoreBuilder.Metrics(Tasks, [[0.9, 0.1]]), loss: null);
        Assert.Null(RunReader.Load(dir).Loss);
    }

    [Fact]
    public void Missing_directory_metrics_or_recipe_are_one_line_errors()
    {
        string absent = Path.Combine(_store.Root, "absent");
        Assert.Equal($"{absent}: no such run directory", Assert.Throws<MiguUserException>(() => RunReader.Load(absent)).Message);

        string empty = Directory.CreateDirectory(Path.Combine(_store.Root, "empty")).FullName;
        Assert.Equal($"{empty}: no metrics.json; not a run directory, or its first task has not been evaluated yet",
            Assert.Throws<MiguUserException>(() => RunReader.Load(empty)).Message);

        string noRecipe = _store.AddRun("no-recipe", new Recipe(), RunStoreBuilder.Metrics(Tasks, [[0.9, 0.1]]), loss: null);
        File.Delete(Path.Combine(noRecipe, "recipe.json"));
        Assert.Equal($"{noRecipe}: no recipe.json; not a run directory", Assert.Throws<MiguUserException>(() => RunReader.Load(noRecipe)).Message);
    }

    [Fact]
    public void A_malformed_recipe_or_loss_names_its_file()
    {
        string dir = _store.AddRun("bad", new Recipe(), RunStoreBuilder.Metrics(Tasks, [[0.9, 0.1]]), "step,loss\n");
        var e = Assert.Throws<MiguUserException>(() => RunReader.Load(dir));
        Assert.StartsWith(Path.Combine(dir, "loss.csv") + ": the header lacks", e.Message, StringComparison.Ordinal);

        File.WriteAllText(Path.Combine(dir, "recipe.json"), """{"method": "nope"}""");
        e = Assert.Throws<MiguUserException>(() => RunReader.Load(dir));
        Assert.StartsWith(Path.Combine(dir, "recipe.json") + ": not a valid recipe", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadAll_reads_a_directory_once_and_names_collisions_by_parent()
    {
        var metrics = RunStoreBuilder.Metrics(Tasks, [[0.9, 0.1]]);
        string a = _store.AddRun(Path.Combine("sweep-a", "run"), new Recipe(), metrics, loss: null);
        string b = _store.AddRun(Path.Combine("sweep-b", "run"), new Recipe(), metrics, loss: null);
        var runs = RunReader.LoadAll([a, b, a + Path.DirectorySeparatorChar]);
        Assert.Equal(["sweep-a/run", "sweep-b/run"], runs.Select(r => r.Name));
    }

    [Fact]
    public void LoadAll_needs_at_least_one_directory()
    {
        Assert.Equal("no run directory given", Assert.Throws<MiguUserException>(() => RunReader.LoadAll([])).Message);
    }
}
