namespace Migu.Continual.Training;

/// <summary>
/// Derives independent seeds from the run seed and a position (task, epoch, step), so every random
/// choice can be recomputed from where it happens: a resumed run draws exactly what an
/// uninterrupted one drew, with no generator state to save.
/// </summary>
public static class Seeds
{
    /// <summary>A 31-bit seed mixed (SplitMix64) from <paramref name="seed"/> and <paramref name="parts"/>.</summary>
    public static int Derive(long seed, params long[] parts)
    {
        ulong h = Mix((ulong)seed);
        foreach (long p in parts)
        {
            h = Mix(h ^ (ulong)p);
        }

        return (int)(h & 0x7FFF_FFFF);
    }

    private static ulong Mix(ulong z)
    {
        z += 0x9E37_79B9_7F4A_7C15;
        z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9;
        z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EB;
        return z ^ (z >> 31);
    }
}
