using Migu.Continual.Data;
using Migu.Continual.Prompts;
using Migu.Continual.Recipes;

namespace Migu.Continual.Runs;

/// <summary>Reads a recipe's tasks: the catalog (a data root or the embedded demo stream), the order, caps and prompts.</summary>
public static class RunTasks
{
    public static IReadOnlyList<LoadedTask> Load(Recipe recipe)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        DataPreparation.Validate(recipe.DataOptions);
        TaskCatalog catalog = TaskCatalog.ForRecipe(recipe.Data, recipe.DataOptions);
        IReadOnlyList<TaskEntry> entries = TaskOrders.Resolve(catalog, recipe.Order, recipe.Tasks);
        var prompts = new PromptBuilder(InstructionSet.For(recipe.DataOptions));
        return [.. entries.Select(e => new LoadedTask(catalog.Load(e, recipe.DataOptions, recipe.Seed), prompts, recipe.Eval.Split))];
    }
}
