using Migu.Continual.Data;

namespace Migu.Continual.Pretraining;

/// <summary>
/// What domain t trains on: its own packed sequences, plus — for replay — a fixed sample of
/// round(fraction·n_j) (at least one) sequences of every earlier domain j, drawn from the run seed
/// and j's name alone, so it is the same at every later domain and after a resume.
/// </summary>
public static class DomainMix
{
    public static IReadOnlyList<int[]> For(int domain, IReadOnlyList<string> names, IReadOnlyList<IReadOnlyList<int[]>> sequences, double replayFraction, long seed)
    {
        ArgumentNullException.ThrowIfNull(names);
        ArgumentNullException.ThrowIfNull(sequences);
        var mixed = new List<int[]>(sequences[domain]);
        if (replayFraction <= 0)
        {
            return mixed;
        }

        for (int j = 0; j < domain; j++)
        {
            IReadOnlyList<int[]> earlier = sequences[j];
            if (earlier.Count == 0)
            {
                continue;
            }

            int take = Math.Clamp((int)Math.Round(replayFraction * earlier.Count, MidpointRounding.AwayFromZero), 1, earlier.Count);
            var order = Enumerable.Range(0, earlier.Count).ToList();
            new SplitMix64(SplitMix64.Derive(seed, names[j], "pretrain-replay")).Shuffle(order);
            mixed.AddRange(order.Take(take).Order().Select(i => earlier[i]));
        }

        return mixed;
    }
}
