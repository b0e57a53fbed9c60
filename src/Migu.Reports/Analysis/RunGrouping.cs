using Migu.Continual.Recipes;
using Migu.Continual.Strategies;
using Migu.Reports.Store;

namespace Migu.Reports.Analysis;

/// <summary>
/// Groups runs into configurations (seeds pooled) and names each group. Groups come in a fixed
/// order whatever order the runs were given in: by method, MIGU off before on, then by name.
/// </summary>
public static class RunGrouping
{
    /// <summary>Friendlier names for recipe paths that often tell groups apart.</summary>
    private static readonly Dictionary<string, string> ShortNames = new(StringComparer.Ordinal)
    {
        ["migu.threshold"] = "T",
        ["training.lr"] = "lr",
        ["training.epochs"] = "epochs",
    };

    /// <summary>The groups of <paramref name="runs"/>, and the task sets their letters refer to.</summary>
    public static (IReadOnlyList<RunGroup> Groups, TaskSets TaskSets) Group(IReadOnlyList<RunRecord> runs)
    {
        List<List<RunRecord>> pooled = [.. runs
            .GroupBy(RecipeKeys.Group, StringComparer.Ordinal)
            .OrderBy(g => ContinualMethods.OrderOf(g.First().Recipe.Method))
            .ThenBy(g => g.First().Recipe.Migu is null ? 0 : 1)
            .ThenBy(g => RecipeLabel.Of(g.First().Recipe), StringComparer.Ordinal)
            .ThenBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => g.OrderBy(r => r.Recipe.Seed).ThenBy(r => r.Name, StringComparer.Ordinal).ToList())];

        var taskSets = new TaskSets();
        List<string> letters = [.. pooled.Select(g => taskSets.LetterOf(g[0].Metrics.Tasks))];
        List<string> labels = Labels(pooled, letters);
        List<RunGroup> groups = [.. pooled.Select((g, i) => new RunGroup { Label = labels[i], Runs = g, TaskSet = letters[i] })];
        return (groups, taskSets);
    }

    /// <summary>
    /// Each group's label; where several share one (say two "ft+MIGU" groups), the recipe fields
    /// in which they differ are added, e.g. "ft+MIGU (T=0.5)" and "ft+MIGU (T=0.7)".
    /// </summary>
    private static List<string> Labels(List<List<RunRecord>> groups, List<string> letters)
    {
        List<Recipe> recipes = [.. groups.Select(g => g[0].Recipe)];
        List<string> plain = [.. recipes.Select(RecipeLabel.Of)];
        var labels = new List<string>();
        for (int i = 0; i < groups.Count; i++)
        {
            List<int> twins = [.. Enumerable.Range(0, groups.Count).Where(k => plain[k] == plain[i])];
            List<string> extra = twins.Count > 1 ? Differences(i, twins, recipes, letters) : [];
            string label = RecipeLabel.Compose(RecipeLabel.Head(recipes[i]), RecipeLabel.Qualifiers(recipes[i]).Concat(extra));
            string unique = label;
            for (int k = 2; labels.Contains(unique); k++)
            {
                unique = $"{label} #{k}";
            }

            labels.Add(unique);
        }

        return labels;
    }

    /// <summary>"path=value" for each recipe field whose value differs among <paramref name="twins"/>.</summary>
    private static List<string> Differences(int self, List<int> twins, List<Recipe> recipes, List<string> letters)
    {
        // Task lists are compared as the runs trained them (a letter), not as recipe fields.
        List<SortedDictionary<string, string>> flat = [.. twins.Select(k =>
        {
            var leaves = RecipeKeys.Flatten(recipes[k]);
            leaves.Remove("tasks");
            leaves.Remove("order");
            leaves["tasks"] = letters[k];
            return leaves;
        })];
        var mine = flat[twins.IndexOf(self)];
        var paths = new SortedSet<string>(flat.SelectMany(f => f.Keys), StringComparer.Ordinal);
        return [.. paths
            .Where(p => flat.Select(f => f.GetValueOrDefault(p, "none")).Distinct(StringComparer.Ordinal).Count() > 1)
            .Select(p => $"{ShortNames.GetValueOrDefault(p, p)}={mine.GetValueOrDefault(p, "none")}")];
    }
}
