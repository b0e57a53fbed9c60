using System.Text.Json;
using System.Text.Json.Nodes;
using Migu.Continual.Recipes;
using Migu.Reports.Store;

namespace Migu.Reports.Analysis;

/// <summary>
/// Canonical forms of a run's recipe for grouping. Two runs are seeds of one configuration when
/// their recipes agree after the seed (the run's and MIGU's) and the device are blanked out.
/// </summary>
internal static class RecipeKeys
{
    /// <summary>The recipe without what varies between seeds of one configuration.</summary>
    public static Recipe WithoutSeed(Recipe r) => r with
    {
        Seed = 0,
        Device = string.Empty,
        Migu = r.Migu is null ? null : r.Migu with { Seed = 0 },
    };

    /// <summary>Identifies a group: the recipe without seeds, plus the task list the run actually trained.</summary>
    public static string Group(RunRecord run) =>
        RecipeJson.Serialize(WithoutSeed(run.Recipe)) + "\n" + string.Join('\n', run.Metrics.Tasks);

    /// <summary>Identifies a threshold-sweep family: the group key with MIGU taken out entirely.</summary>
    public static string SweepFamily(RunRecord run) =>
        RecipeJson.Serialize(WithoutSeed(run.Recipe) with { Migu = null }) + "\n" + string.Join('\n', run.Metrics.Tasks);

    /// <summary>MIGU's settings other than T and its seed; null when MIGU is off or T = 0 (both are a sweep's baseline).</summary>
    public static string? MiguWithoutThreshold(Recipe r) =>
        r.Migu is { Threshold: > 0 } m ? JsonSerializer.Serialize(m with { Threshold = 0, Seed = 0 }, RecipeJson.Options) : null;

    /// <summary>The recipe as dotted paths to leaf values ("training.lr" → "0.0001"), seeds blanked out.</summary>
    public static SortedDictionary<string, string> Flatten(Recipe r)
    {
        var leaves = new SortedDictionary<string, string>(StringComparer.Ordinal);
        Walk(JsonNode.Parse(RecipeJson.Serialize(WithoutSeed(r))), string.Empty, leaves);
        return leaves;
    }

    private static void Walk(JsonNode? node, string path, SortedDictionary<string, string> leaves)
    {
        switch (node)
        {
            case JsonObject o:
                foreach (var (key, child) in o)
                {
                    Walk(child, path.Length == 0 ? key : $"{path}.{key}", leaves);
                }

                break;
            case JsonArray a:
                leaves[path] = string.Join(",", a.Select(x => x is JsonValue v ? v.ToString() : x?.ToJsonString() ?? "null"));
                break;
            case JsonValue v:
                leaves[path] = v.ToString();
                break;
            default:
                leaves[path] = "null";
                break;
        }
    }
}
