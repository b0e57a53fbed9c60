using System.Text.Json.Nodes;
using Migu.Continual.Recipes;
using Migu.Continual.Runs;
using Migu.Continual.Strategies;
using Migu.Core;

namespace Migu.Extensibility.Tests;

/// <summary>
/// Adding a method is one strategy file plus one registry call, and an option one property: a toy
/// method and its option, defined here with the library's public API only, run through the real runner.
/// </summary>
public sealed class ExtensionTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("migu-extension").FullName;

    static ExtensionTests() => ContinualMethods.Register(AnchoredFineTuning.Method);

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void A_registered_method_and_its_option_are_read_from_recipes_and_flags()
    {
        Recipe fromFile = RecipeJson.Deserialize("""{"method": "Anchored", "anchor": {"strength": 0.25}}""", "r.json");
        Assert.Equal("anchored", fromFile.Method);
        Assert.Equal(0.25, fromFile.Section<AnchorSettings>("anchor").Strength);
        Assert.Equal(1.0, new Recipe().Section<AnchorSettings>("anchor").Strength);

        RecipeOption flag = Assert.Single(RecipeOptions.Flags(OptionScopes.Run), o => o.Flag == "--anchor-strength");
        Assert.Equal("anchor.strength", flag.Key);
        Assert.Equal(typeof(double?), flag.FlagType);
        Recipe fromFlags = RecipeOptions.Apply(new Recipe(), [(Method(), "anchored"), (flag, 3.5)]);
        Assert.Equal(3.5, fromFlags.Section<AnchorSettings>("anchor").Strength);
        Assert.Contains("\"anchor\": {", RecipeJson.Serialize(fromFlags), StringComparison.Ordinal);

        var unknown = Assert.Throws<MiguUserException>(() => RecipeJson.Deserialize("""{"anchor": {"strenght": 1}}""", "r.json"));
        Assert.Contains("$.anchor", unknown.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_runner_trains_every_task_with_the_registered_method_and_MIGU()
    {
        Recipe recipe = RecipeOptions.Apply(
            new Recipe
            {
                Tasks = ["agnews", "yelp"],
                Model = "llama-tiny",
                Training = new TrainingSettings { Lr = 3e-3, Batch = 4, MaxSourceLength = 64, MaxTargetLength = 8 },
                DataOptions = new DataSettings { MaxTrain = 8, MaxTest = 4 },
                Eval = new EvalSettings { Mode = EvalMode.Rank, Batch = 8 },
            },
            [(Method(), "anchored"), (Flag("--anchor-strength"), 0.5), (Flag("--migu"), "0.5")]);
        string dir = Path.Combine(root, "run");

        RunMetrics metrics = new ContinualRunner(recipe, RunTasks.Load(recipe), dir).Run();

        Assert.True(metrics.Finished);
        Assert.Equal(2, metrics.AccuracyMatrix.Count);
        AnchoredFineTuning strategy = AnchoredFineTuning.Created[^1];
        Assert.Equal(0.5, strategy.Strength);
        Assert.Equal([0, 1], strategy.BegunTasks);
        Assert.Equal([0, 1], strategy.EndedTasks);
        // The pull is asked for at every step: zero before the first update, positive once the weights moved.
        Assert.Equal(metrics.Timings.Sum(t => t.Steps), strategy.ExtraLosses.Count);
        Assert.Equal(0f, strategy.ExtraLosses[0]);
        Assert.True(strategy.ExtraLosses[^1] > 0, "the weights moved from where they started");
        JsonNode stored = JsonNode.Parse(File.ReadAllText(Path.Combine(dir, RunStore.RecipeFile)))!;
        Assert.Equal("anchored", stored["method"]!.GetValue<string>());
        Assert.Equal(0.5, stored["anchor"]!["strength"]!.GetValue<double>());

        // Running again finds the run finished: the method's recipe section is part of the run's identity.
        Assert.True(new ContinualRunner(recipe, RunTasks.Load(recipe), dir).Run().Finished);
        var changed = Assert.Throws<MiguUserException>(() =>
            new ContinualRunner(RecipeOptions.Apply(recipe, [(Flag("--anchor-strength"), 0.75)]), RunTasks.Load(recipe), dir).Run());
        Assert.Contains("$.anchor.strength", changed.Message, StringComparison.Ordinal);
    }

    private static RecipeOption Method() => Flag("--method");

    private static RecipeOption Flag(string flag) => RecipeOptions.Flags(OptionScopes.Run).Single(o => o.Flag == flag);
}
