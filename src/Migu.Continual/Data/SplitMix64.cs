namespace Migu.Continual.Data;

/// <summary>
/// SplitMix64 (Steele, Lea and Flood, 2014; Vigna's reference constants): a tiny PRNG whose whole
/// definition is the few lines below, so a sample drawn from a seed is the same on every platform
/// and runtime version, and a script in any language can reproduce it.
/// </summary>
public sealed class SplitMix64
{
    private ulong state;

    public SplitMix64(ulong seed) => state = seed;

    public ulong NextUInt64()
    {
        unchecked
        {
            state += 0x9E3779B97F4A7C15UL;
            ulong z = state;
            z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9UL;
            z = (z ^ (z >> 27)) * 0x94D049BB133111EBUL;
            return z ^ (z >> 31);
        }
    }

    /// <summary>Uniform in [0, <paramref name="exclusiveMax"/>), without modulo bias (draws below 2^64 mod n are rejected).</summary>
    public int NextInt(int exclusiveMax)
    {
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(exclusiveMax);
        ulong bound = (ulong)exclusiveMax;
        ulong threshold = unchecked(0UL - bound) % bound;
        while (true)
        {
            ulong r = NextUInt64();
            if (r >= threshold)
            {
                return (int)(r % bound);
            }
        }
    }

    /// <summary>Fisher–Yates, from the last element down.</summary>
    public void Shuffle<T>(IList<T> items)
    {
        for (int i = items.Count - 1; i > 0; i--)
        {
            int j = NextInt(i + 1);
            (items[i], items[j]) = (items[j], items[i]);
        }
    }

    /// <summary>
    /// A seed for one purpose of one task (<c>train</c> cap, <c>replay</c> sample, …): FNV-1a of the
    /// UTF-8 text <c>task/purpose</c>, mixed with the run seed. Each task and purpose draws from its
    /// own stream, so adding a task to a run does not change another task's sample.
    /// </summary>
    public static ulong Derive(long seed, string task, string purpose)
    {
        const ulong fnvOffset = 0xCBF29CE484222325UL;
        const ulong fnvPrime = 0x100000001B3UL;
        ulong hash = fnvOffset;
        foreach (byte b in System.Text.Encoding.UTF8.GetBytes($"{task}/{purpose}"))
        {
            hash = unchecked((hash ^ b) * fnvPrime);
        }

        return new SplitMix64(hash ^ unchecked((ulong)seed)).NextUInt64();
    }
}
