namespace Migu.Continual.Training;

/// <summary>
/// The batches of one epoch: examples shuffled with a seed, then within windows of
/// <see cref="WindowBatches"/> batches sorted by length so a batch holds examples of similar length
/// (little padding), and the batch order shuffled again so lengths do not trend over the epoch.
/// </summary>
public static class BatchPlan
{
    /// <summary>How many batches' worth of examples are sorted by length together.</summary>
    public const int WindowBatches = 50;

    /// <summary>Index batches covering every example once; the last may be smaller.</summary>
    public static IReadOnlyList<int[]> ForEpoch(IReadOnlyList<int> lengths, int batchSize, int seed)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var random = new Shuffler(seed);
        int[] order = Enumerable.Range(0, lengths.Count).ToArray();
        random.Shuffle(order);
        var batches = new List<int[]>();
        int window = batchSize * WindowBatches;
        for (int start = 0; start < order.Length; start += window)
        {
            // Stable sort by length inside the window; ties keep the shuffled order.
            int[] chunk = [.. order.Skip(start).Take(window).OrderBy(i => lengths[i])];
            for (int b = 0; b < chunk.Length; b += batchSize)
            {
                batches.Add(chunk[b..Math.Min(b + batchSize, chunk.Length)]);
            }
        }

        int[][] shuffled = [.. batches];
        random.Shuffle(shuffled);
        return shuffled;
    }

    /// <summary>Batches in order without shuffling or sorting (evaluation).</summary>
    public static IReadOnlyList<int[]> Sequential(int count, int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var batches = new List<int[]>();
        for (int start = 0; start < count; start += batchSize)
        {
            batches.Add([.. Enumerable.Range(start, Math.Min(batchSize, count - start))]);
        }

        return batches;
    }
}
