using Migu.Continual.Recipes;
using Migu.Core;

namespace Migu.Continual.Tests.Recipes;

public sealed class RecipeJsonTests
{
    [Fact]
    public void A_recipe_round_trips_through_snake_case_json()
    {
        var recipe = new Recipe
        {
            Data = "data/cl",
            Tasks = ["agnews", "yelp"],
            Model = "llama-tiny",
            Method = "inclora",
            Migu = new MiguOptions { Threshold = 0.5, Mode = MiguMode.Update },
            Training = new TrainingSettings { Epochs = 2, Lr = 3e-4, Schedule = LrSchedule.Cosine },
            PerTask = new Dictionary<string, TaskOverride> { ["yelp"] = new() { Lr = 1e-3 } },
            Seed = 7,
        };

        string json = RecipeJson.Serialize(recipe);
        Recipe back = RecipeJson.Deserialize(json, "test");

        Assert.Contains("\"method\": \"inclora\"", json, StringComparison.Ordinal);
        Assert.Contains("\"mode\": \"update\"", json, StringComparison.Ordinal);
        Assert.Contains("\"max_source_length\": 512", json, StringComparison.Ordinal);
        Assert.Equal(json, RecipeJson.Serialize(back));
        Assert.Equal(["agnews", "yelp"], back.Tasks);
        Assert.Equal(0.5, back.Migu!.Threshold);
        Assert.Equal(1e-3, back.PerTask!["yelp"].Lr);
    }

    [Fact]
    public void Unknown_keys_and_bad_values_name_the_file_and_the_place()
    {
        var unknown = Assert.Throws<MiguUserException>(() => RecipeJson.Deserialize("""{"modle": "t5-tiny"}""", "r.json"));
        Assert.StartsWith("r.json: not a valid recipe", unknown.Message, StringComparison.Ordinal);
        Assert.Contains("modle", unknown.Message, StringComparison.Ordinal);

        var badEnum = Assert.Throws<MiguUserException>(() => RecipeJson.Deserialize("""{"method": "sgd"}""", "r.json"));
        Assert.Contains("$.method", badEnum.Message, StringComparison.Ordinal);

        var missing = Assert.Throws<MiguUserException>(() => RecipeJson.Load("/nonexistent/recipe.json"));
        Assert.Contains("no such recipe file", missing.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Enums_are_read_case_insensitively()
    {
        Recipe r = RecipeJson.Deserialize("""{"method": "OLora", "eval": {"mode": "Rank"}}""", "r.json");
        Assert.Equal("olora", r.Method);
        Assert.Equal(EvalMode.Rank, r.Eval.Mode);
    }
}
