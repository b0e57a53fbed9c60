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
    public void A_folder_of_runs_is_searched_and_each_run_below_it_is_read()
    {
        var metrics = RunStoreBuilder.Metrics(Tasks, [[0.9, 0.1]]);
        // The demo's layout (ft/, ft-migu/) and a sweep's (grid point / seed), with a report/ beside them.
        _store.AddRun(Path.Combine("demo", "ft"), new Recipe(), metrics, loss: null);
        _store.AddRun(Path.Combine("demo", "ft-migu"), new Recipe { Seed = 7 }, metrics, loss: null);
        string seed1 = _store.AddRun(Path.Combine("sweep", "migu=0.3", "seed=1"), new Recipe { Seed = 1 }, metrics, loss: null);
        _store.AddRun(Path.Combine("sweep", "migu=0.5", "seed=1"), new Recipe { Seed = 1 }, metrics, loss: null);
        Directory.CreateDirectory(Path.Combine(_store.Root, "sweep", "report", "figures"));
        // A run's own subfolders are not searched: a recipe.json in a checkpoint is not a second run.
        string checkpoint = Directory.CreateDirectory(Path.Combine(seed1, "checkpoints", "task-00-dbpedia")).FullName;
        File.Copy(Path.Combine(seed1, "recipe.json"), Path.Combine(checkpoint, "recipe.json"));
        File.Copy(Path.Combine(seed1, "metrics.json"), Path.Combine(checkpoint, "metrics.json"));

        Assert.Equal(["ft", "ft-migu"], RunReader.LoadAll([Path.Combine(_store.Root, "demo")]).Select(r => r.Name));
        Assert.Equal(["migu=0.3/seed=1", "migu=0.5/seed=1"], RunReader.LoadAll([Path.Combine(_store.Root, "sweep")]).Select(r => r.Name));
        // The whole tree at once, and a run named again beside its folder, is read once per run.
        var all = RunReader.LoadAll([_store.Root, seed1]);
        Assert.Equal(4, all.Count);
        Assert.Equal(4, all.Select(r => r.Directory).Distinct().Count());
    }

    [Fact]
    public void A_folder_search_follows_no_symbolic_link()
    {
        var metrics = RunStoreBuilder.Metrics(Tasks, [[0.9, 0.1]]);
        string outside = _store.AddRun(Path.Combine("elsewhere", "run"), new Recipe(), metrics, loss: null);
        string folder = Directory.CreateDirectory(Path.Combine(_store.Root, "folder")).FullName;
        _store.AddRun(Path.Combine("folder", "own"), new Recipe(), metrics, loss: null);
        Directory.CreateSymbolicLink(Path.Combine(folder, "linked"), outside);
        Directory.CreateSymbolicLink(Path.Combine(folder, "loop"), folder);

        Assert.Equal([Path.Combine(folder, "own")], RunReader.FindRuns(folder));
    }

    [Fact]
    public void A_folder_without_runs_is_a_one_line_error_that_says_why()
    {
        string empty = Directory.CreateDirectory(Path.Combine(_store.Root, "empty", "sub")).FullName;
        string emptyRoot = Path.GetDirectoryName(empty)!;
        Assert.Equal($"{emptyRoot}: no run directory in it or below it (a run directory holds recipe.json and metrics.json)",
            Assert.Throws<MiguUserException>(() => RunReader.LoadAll([emptyRoot])).Message);

        // Runs that started but have not scored their first task yet: recipe.json only.
        string unscored = Directory.CreateDirectory(Path.Combine(_store.Root, "started", "a")).FullName;
        File.WriteAllText(Path.Combine(unscored, "recipe.json"), RecipeJson.Serialize(new Recipe()));
        string started = Path.GetDirectoryName(unscored)!;
        Assert.Equal($"{started}: no run below it has been scored yet (1 with recipe.json but no metrics.json: their first task is not evaluated)",
            Assert.Throws<MiguUserException>(() => RunReader.FindRuns(started)).Message);

        // Named directly, such a run keeps the error that names what it lacks.
        Assert.StartsWith($"{unscored}: no metrics.json",
            Assert.Throws<MiguUserException>(() => RunReader.LoadAll([unscored])).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void LoadAll_needs_at_least_one_directory()
    {
        Assert.Equal("no run directory given", Assert.Throws<MiguUserException>(() => RunReader.LoadAll([])).Message);
    }
}
