namespace Migu.Continual.Training;

/// <summary>
/// A seeded sample that keeps label proportions: each label gets its share of the count (largest
/// remainders first, ties to the more frequent label, then label order), drawn after a seeded shuffle;
/// the result keeps the input's order.
/// </summary>
public static class StratifiedSample
{
    public static IReadOnlyList<T> Take<T>(IReadOnlyList<T> items, Func<T, string> label, int count, int seed)
    {
        if (count >= items.Count)
        {
            return items;
        }

        var groups = items.Select((item, index) => (item, index))
            .GroupBy(x => label(x.item), StringComparer.Ordinal)
            .OrderBy(g => g.Key, StringComparer.Ordinal)
            .Select(g => g.Select(x => x.index).ToArray())
            .ToList();
        var quota = groups.Select(g => (long)g.Length * count / items.Count).Select(q => (int)q).ToArray();
        int left = count - quota.Sum();
        foreach (int g in Enumerable.Range(0, groups.Count)
            .OrderByDescending(g => ((long)groups[g].Length * count) % items.Count)
            .ThenByDescending(g => groups[g].Length)
            .ThenBy(g => g)
            .Take(left))
        {
            quota[g]++;
        }

        var random = new Random(seed);
        var chosen = new List<int>(count);
        for (int g = 0; g < groups.Count; g++)
        {
            int[] members = groups[g];
            random.Shuffle(members);
            chosen.AddRange(members.Take(quota[g]));
        }

        chosen.Sort();
        return [.. chosen.Select(i => items[i])];
    }
}
