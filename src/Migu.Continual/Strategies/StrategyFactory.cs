using Migu.Continual.Recipes;
using Migu.Core;
using Migu.Models;

namespace Migu.Continual.Strategies;

/// <summary>The strategy a recipe names, and the MIGU options (if any) that go with it.</summary>
public static class StrategyFactory
{
    public static IContinualStrategy Create(Recipe recipe, LanguageModel model)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        bool freeze = recipe.Training.FreezeEmbeddings;
        return recipe.Method switch
        {
            ContinualMethod.Ft or ContinualMethod.Mtl or ContinualMethod.Random => new FullFineTuning(model, freeze),
            ContinualMethod.Ewc => new ElasticWeightConsolidation(model, freeze, recipe.Ewc.Lambda, recipe.Ewc.FisherSamples),
            ContinualMethod.Replay => new ReplayStrategy(
                recipe.Replay.Base switch
                {
                    ContinualMethod.Ft => new FullFineTuning(model, freeze),
                    _ => throw new MiguUserException($"replay.base must be ft or lora, got '{recipe.Replay.Base.ToString().ToLowerInvariant()}'"),
                },
                recipe.Replay.Fraction,
                recipe.Seed),
            _ => throw new MiguUserException($"method '{recipe.Method.ToString().ToLowerInvariant()}' is not available yet"),
        };
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
