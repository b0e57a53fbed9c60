using Migu.Continual.Pretraining;
using Migu.Continual.Recipes;

namespace Migu.Continual.Tests.Recipes;

/// <summary>Every recipe shipped in recipes/ loads, round-trips, and names files that exist in the repository.</summary>
public sealed class RecipeFilesTests
{
    public static TheoryData<string> Files() => [.. Names()];

    [Theory]
    [MemberData(nameof(Files))]
    public void A_shipped_recipe_loads_and_round_trips(string file)
    {
        Recipe recipe = RecipeJson.Load(RepoFiles.Path("recipes", file));
        Assert.Equal(RecipeJson.Serialize(recipe), RecipeJson.Serialize(RecipeJson.Deserialize(RecipeJson.Serialize(recipe), file)));
        if (recipe.Pretrain is { } pretrain)
        {
            PretrainDomains.Validate(pretrain);
        }

        // Benchmarks the repository ships are named relative to its root.
        foreach (string path in recipe.Forgetting?.MultipleChoice.Where(p => p.StartsWith("recipes/", StringComparison.Ordinal)) ?? [])
        {
            Assert.True(File.Exists(RepoFiles.Path(path)), path);
        }
    }

    [Fact]
    public void The_shipped_recipes_include_continual_pretraining_and_decoder_forgetting()
    {
        var recipes = Names().Select(f => RecipeJson.Load(RepoFiles.Path("recipes", f))).ToList();
        Assert.Contains(recipes, r => r.Pretrain is not null && r.EndTasks is not null);
        Assert.Contains(recipes, r => r.Forgetting is not null && r.Method == "lora");
    }

    private static IEnumerable<string> Names() =>
        Directory.GetFiles(RepoFiles.Path("recipes"), "*.json").Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal);
}
