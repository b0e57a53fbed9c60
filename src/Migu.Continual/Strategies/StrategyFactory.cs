using Migu.Continual.Recipes;
using Migu.Core;
using Migu.Models;

namespace Migu.Continual.Strategies;

/// <summary>The strategy a recipe names, and the MIGU options (if any) that go with it.</summary>
public static class StrategyFactory
{
    /// <summary>
    /// The strategy for <paramref name="recipe"/> on <paramref name="model"/> (which must already be on
    /// its device: LoRA adapters are created where the weights are). <paramref name="baseModel"/> is
    /// what adapter files name as their base model; <paramref name="taskNames"/> key per-task settings.
    /// </summary>
    public static IContinualStrategy Create(Recipe recipe, LanguageModel model, IReadOnlyList<string> taskNames, string? baseModel = null)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        bool freeze = recipe.Training.FreezeEmbeddings;
        return recipe.Method switch
        {
            ContinualMethod.Ft or ContinualMethod.Mtl or ContinualMethod.Random => new FullFineTuning(model, freeze),
            ContinualMethod.Ewc => new ElasticWeightConsolidation(model, freeze, recipe.Ewc.Lambda, recipe.Ewc.FisherSamples),
            ContinualMethod.Lora => new LoraStrategy(model, recipe.Lora, incremental: false, recipe.Seed, baseModel),
            ContinualMethod.Inclora => new LoraStrategy(model, recipe.Lora, incremental: true, recipe.Seed, baseModel),
            ContinualMethod.Olora => new OLoraStrategy(model, recipe.Lora, recipe.Seed, baseModel, t => Lambdas(recipe, taskNames, t)),
            ContinualMethod.Replay => new ReplayStrategy(
                recipe.Replay.Base switch
                {
                    ContinualMethod.Ft => new FullFineTuning(model, freeze),
                    ContinualMethod.Lora => new LoraStrategy(model, recipe.Lora, incremental: false, recipe.Seed, baseModel),
                    _ => throw new MiguUserException($"replay.base must be ft or lora, got '{recipe.Replay.Base.ToString().ToLowerInvariant()}'"),
                },
                recipe.Replay.Fraction,
                recipe.Seed),
            _ => throw new ArgumentOutOfRangeException(nameof(recipe), recipe.Method, "unknown method"),
        };
    }

    /// <summary>Whether the method trains LoRA adapters on a frozen base (so the base is saved once, not per task).</summary>
    public static bool UsesAdapters(Recipe recipe) =>
        recipe.Method is ContinualMethod.Lora or ContinualMethod.Inclora or ContinualMethod.Olora
        || (recipe.Method == ContinualMethod.Replay && recipe.Replay.Base == ContinualMethod.Lora);

    /// <summary>O-LoRA's λ1, λ2 for a task: the task's override, else the recipe's.</summary>
    private static (double, double) Lambdas(Recipe recipe, IReadOnlyList<string> taskNames, int taskIndex)
    {
        string? name = taskIndex < taskNames.Count ? taskNames[taskIndex] : null;
        TaskOverride? over = name is null ? null : recipe.PerTask?.GetValueOrDefault(name);
        return (over?.Lambda1 ?? recipe.Olora.Lambda1, over?.Lambda2 ?? recipe.Olora.Lambda2);
    }

    /// <summary>
    /// MIGU's options for the run, or null when MIGU is off. The random-update baseline is MIGU with a
    /// random mask source (its threshold from the recipe's migu section, 0.7 by default).
    /// </summary>
    public static MiguOptions? MiguOptionsFor(Recipe recipe)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        if (recipe.Method == ContinualMethod.Random)
        {
            return (recipe.Migu ?? new MiguOptions()) with { Source = MaskSource.Random, Seed = recipe.Seed };
        }

        return recipe.Migu;
    }
}
