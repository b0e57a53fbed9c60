using Migu.Continual.Data;

namespace Migu.Continual.Pretraining;

/// <summary>Uniform draws from <see cref="SplitMix64"/> that the objectives need beyond integers.</summary>
internal static class UniformDraws
{
    /// <summary>Uniform in [0, 1): the top 53 bits of a draw.</summary>
    public static double NextDouble(this SplitMix64 random) => (random.NextUInt64() >> 11) * (1.0 / (1UL << 53));

    /// <summary><paramref name="count"/> distinct items of <paramref name="items"/>, uniformly (a partial Fisher–Yates from the front).</summary>
    public static int[] Choose(this SplitMix64 random, IReadOnlyList<int> items, int count)
    {
        int[] pool = [.. items];
        for (int i = 0; i < count; i++)
        {
            int j = i + random.NextInt(pool.Length - i);
            (pool[i], pool[j]) = (pool[j], pool[i]);
        }

        return pool[..count];
    }
}
