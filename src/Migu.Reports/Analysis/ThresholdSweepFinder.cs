namespace Migu.Reports.Analysis;

/// <summary>
/// Finds threshold sweeps among groups: configurations whose recipes (and task lists) are equal
/// except for MIGU's T, run at two or more thresholds above zero. A plain "with vs without MIGU"
/// pair is not a sweep; the comparison table already shows it. When the report's runs train more
/// than one task list, each sweep's label names its list's letter, or sweeps of different task
/// orders would carry one label (and tables and figures could not be told apart).
/// </summary>
public static class ThresholdSweepFinder
{
    public static IReadOnlyList<ThresholdSweep> Find(IReadOnlyList<RunGroup> groups)
    {
        var sweeps = new List<ThresholdSweep>();
        bool manyTaskSets = groups.Select(g => g.TaskSet).Distinct(StringComparer.Ordinal).Skip(1).Any();
        foreach (var family in groups.GroupBy(g => RecipeKeys.SweepFamily(g.Runs[0]), StringComparer.Ordinal))
        {
            // MIGU off and T = 0 mask nothing: both are the baseline.
            RunGroup? baseline = family.FirstOrDefault(g => RecipeKeys.MiguWithoutThreshold(g.Recipe) is null);
            var variants = family
                .Where(g => RecipeKeys.MiguWithoutThreshold(g.Recipe) is not null)
                .GroupBy(g => RecipeKeys.MiguWithoutThreshold(g.Recipe)!, StringComparer.Ordinal);
            foreach (var variant in variants)
            {
                List<SweepPoint> points = [.. variant.Select(g => new SweepPoint(g.Recipe.Migu!.Threshold, g)).OrderBy(p => p.Threshold)];
                if (points.Count >= 2)
                {
                    string label = RecipeLabel.Compose(RecipeLabel.Head(points[0].Group.Recipe), RecipeLabel.Qualifiers(points[0].Group.Recipe));
                    sweeps.Add(new ThresholdSweep
                    {
                        Label = manyTaskSets ? $"{label}, tasks {points[0].Group.TaskSet}" : label,
                        Points = points,
                        Baseline = baseline,
                    });
                }
            }
        }

        return sweeps;
    }
}
