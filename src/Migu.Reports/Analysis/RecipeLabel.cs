using Migu.Continual.Recipes;
using Migu.Continual.Strategies;
using Migu.Core;

namespace Migu.Reports.Analysis;

/// <summary>
/// Names a configuration for tables and legends: the method, "+MIGU" when MIGU is on, and the MIGU
/// settings that differ from the paper's in parentheses, e.g. "lora+MIGU (update)".
/// </summary>
public static class RecipeLabel
{
    public static string Of(Recipe recipe) => Compose(Head(recipe), Qualifiers(recipe));

    /// <summary>"head (q1, q2)", or just the head without qualifiers.</summary>
    public static string Compose(string head, IEnumerable<string> qualifiers)
    {
        List<string> q = [.. qualifiers];
        return q.Count == 0 ? head : $"{head} ({string.Join(", ", q)})";
    }

    /// <summary>The method, with "+MIGU" when MIGU is on (the random-update baseline is its own method).</summary>
    public static string Head(Recipe recipe)
    {
        string method = recipe.Method == "replay" && recipe.Replay.Base == "lora" ? "lora-replay" : recipe.Method;
        bool miguOn = recipe.Migu is not null && !ImposesMaskSource(recipe);
        return miguOn ? method + "+MIGU" : method;
    }

    /// <summary>MIGU settings that differ from the paper's defaults.</summary>
    public static IEnumerable<string> Qualifiers(Recipe recipe)
    {
        if (recipe.Migu is not { } m)
        {
            yield break;
        }

        var defaults = new MiguOptions();
        if (m.Mode != defaults.Mode)
        {
            yield return "update";
        }

        if (m.Rule != defaults.Rule)
        {
            yield return "quantile";
        }

        if (m.Source != defaults.Source && !ImposesMaskSource(recipe))
        {
            yield return "random mask";
        }

        if (!string.Equals(m.Layers, defaults.Layers, StringComparison.Ordinal))
        {
            yield return $"layers={m.Layers}";
        }

        if (m.SkipFirstTask != defaults.SkipFirstTask)
        {
            yield return "from task 1";
        }
    }

    /// <summary>Whether the method sets MIGU's mask source itself (the random-update baseline is its own method, not "+MIGU").</summary>
    private static bool ImposesMaskSource(Recipe recipe) => ContinualMethods.Find(recipe.Method)?.MaskSource is not null;
}
