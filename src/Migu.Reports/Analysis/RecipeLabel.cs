using Migu.Continual.Recipes;
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
        string method = recipe.Method switch
        {
            ContinualMethod.Replay when recipe.Replay.Base == ContinualMethod.Lora => "lora-replay",
            _ => MethodName(recipe.Method),
        };
        bool miguOn = recipe.Migu is not null && recipe.Method != ContinualMethod.Random;
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

        if (m.Source != defaults.Source && recipe.Method != ContinualMethod.Random)
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

    /// <summary>The method's name as recipes spell it (snake_case).</summary>
    public static string MethodName(ContinualMethod method) =>
        System.Text.Json.JsonNamingPolicy.SnakeCaseLower.ConvertName(method.ToString());
}
