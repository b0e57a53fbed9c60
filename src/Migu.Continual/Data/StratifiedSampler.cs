namespace Migu.Continual.Data;

/// <summary>
/// Seeded draws that keep the label proportions of a split. How many of each label: each label's
/// exact share count·n/N rounded down, the examples left over going to the largest fractional
/// parts (ties to the label listed first), then, while the draw is at least as large as the
/// number of labels present, any label left at zero takes one example from the label with the
/// most. Which ones: each label's examples in a <see cref="SplitMix64"/> shuffle, labels in
/// labels.json order, so the same seed gives the same sample everywhere. Results keep the
/// original file order (the trainer shuffles).
/// </summary>
public static class StratifiedSampler
{
    /// <summary>Draws <paramref name="count"/> examples; all of them when the split has no more than that.</summary>
    public static IReadOnlyList<Example> Sample(
        IReadOnlyList<Example> examples, IReadOnlyList<string> labels, int count, ulong seed) =>
        count >= examples.Count ? examples : Split(examples, labels, count, seed).Chosen;

    /// <summary>Draws <paramref name="count"/> examples and returns them with the rest.</summary>
    public static StratifiedSplit Split(
        IReadOnlyList<Example> examples, IReadOnlyList<string> labels, int count, ulong seed)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(count);
        List<int>[] byLabel = GroupByLabel(examples, labels);
        int[] allocation = Allocate(byLabel.Select(g => g.Count).ToArray(), count);

        var rng = new SplitMix64(seed);
        var chosen = new bool[examples.Count];
        for (int k = 0; k < byLabel.Length; k++)
        {
            rng.Shuffle(byLabel[k]);
            foreach (int index in byLabel[k].Take(allocation[k]))
            {
                chosen[index] = true;
            }
        }

        var picked = new List<Example>(count);
        var rest = new List<Example>(examples.Count - count);
        for (int i = 0; i < examples.Count; i++)
        {
            (chosen[i] ? picked : rest).Add(examples[i]);
        }

        return new StratifiedSplit(picked, rest);
    }

    /// <summary>
    /// How many of each label a draw of <paramref name="total"/> takes from labels with
    /// <paramref name="counts"/> examples (the rule in the class summary). Sums to
    /// min(total, Σ counts).
    /// </summary>
    public static int[] Allocate(IReadOnlyList<int> counts, int total)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(total);
        long population = counts.Sum(c => (long)c);
        if (total >= population)
        {
            return counts.ToArray();
        }

        var allocation = new int[counts.Count];
        var remainders = new long[counts.Count];
        int given = 0;
        for (int k = 0; k < counts.Count; k++)
        {
            long share = (long)counts[k] * total;
            allocation[k] = (int)(share / population);
            remainders[k] = share % population;
            given += allocation[k];
        }

        // Largest remainders first; OrderBy is stable, so equal remainders keep label order.
        foreach (int k in Enumerable.Range(0, counts.Count).OrderByDescending(k => remainders[k]).Take(total - given))
        {
            allocation[k]++;
        }

        int present = counts.Count(c => c > 0);
        if (total >= present)
        {
            for (int k = 0; k < counts.Count; k++)
            {
                if (counts[k] > 0 && allocation[k] == 0)
                {
                    // Some label holds two or more here: the draw covers every present label.
                    int donor = Enumerable.Range(0, counts.Count).MaxBy(j => allocation[j]);
                    allocation[donor]--;
                    allocation[k] = 1;
                }
            }
        }

        return allocation;
    }

    private static List<int>[] GroupByLabel(IReadOnlyList<Example> examples, IReadOnlyList<string> labels)
    {
        var slot = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int k = 0; k < labels.Count; k++)
        {
            slot.TryAdd(labels[k], k);
        }

        var groups = new List<int>[labels.Count];
        for (int k = 0; k < groups.Length; k++)
        {
            groups[k] = [];
        }

        for (int i = 0; i < examples.Count; i++)
        {
            if (!slot.TryGetValue(examples[i].Label, out int k))
            {
                throw new ArgumentException($"example {i} has label '{examples[i].Label}', which is not in the label list", nameof(examples));
            }

            groups[k].Add(i);
        }

        return groups;
    }
}
