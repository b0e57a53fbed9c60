namespace Migu.Continual.Training;

/// <summary>
/// What a derived seed is for. Each purpose draws from its own stream; the values are the salts the
/// runs have always mixed in, so every recorded run draws what it drew before (changing one changes
/// every run's draws). Per-task samples of data (caps, dev split, replay, held-out documents) are
/// named by text instead (<see cref="Data.SplitMix64.Derive"/>), so a task's sample does not depend
/// on its place in the run.
/// </summary>
public enum SeedPurpose : long
{
    /// <summary>The shuffle and batch order of one epoch of one task: (task, epoch).</summary>
    DataOrder = 0xDA7A,

    /// <summary>Dropout in one micro-batch of one training step: (task, step[, micro-batch]).</summary>
    Dropout = 0xD80,

    /// <summary>A new LoRA adapter's initial A: (task).</summary>
    AdapterInit = 0x10A,

    /// <summary>Which training examples EWC's Fisher is estimated on: (task).</summary>
    FisherSample = 0xE3C,

    /// <summary>Continual pre-training's end tasks: the fine-tuning run (row), and each task's fresh head (row, task).</summary>
    EndTask = 0xE7D,

    /// <summary>Pre-training noise (masked positions, corrupted spans) of one item in one epoch: (domain, epoch, item).</summary>
    ObjectiveNoise = 0x5EED,
}

/// <summary>
/// Derives independent seeds from the run seed, a purpose and a position (task, epoch, step, …), so
/// every random choice can be recomputed from where it happens: a resumed run draws exactly what an
/// uninterrupted one drew, with no generator state to save.
/// </summary>
public static class Seeds
{
    /// <summary>A 31-bit seed mixed (SplitMix64's finaliser) from <paramref name="seed"/>, <paramref name="purpose"/> and <paramref name="place"/>.</summary>
    public static int Derive(long seed, SeedPurpose purpose, params long[] place)
    {
        ArgumentNullException.ThrowIfNull(place);
        ulong h = Mix(Mix((ulong)seed) ^ (ulong)purpose);
        foreach (long p in place)
        {
            h = Mix(h ^ (ulong)p);
        }

        return (int)(h & 0x7FFF_FFFF);
    }

    /// <summary>Dropout's seed for micro-batch <paramref name="micro"/> of a step; the first keeps the step's own seed.</summary>
    public static int Dropout(long seed, int task, int step, int micro) =>
        micro == 0 ? Derive(seed, SeedPurpose.Dropout, task, step) : Derive(seed, SeedPurpose.Dropout, task, step, micro);

    private static ulong Mix(ulong z)
    {
        z += 0x9E37_79B9_7F4A_7C15;
        z = (z ^ (z >> 30)) * 0xBF58_476D_1CE4_E5B9;
        z = (z ^ (z >> 27)) * 0x94D0_49BB_1331_11EB;
        return z ^ (z >> 31);
    }
}

/// <summary>
/// Shuffles for the two draws that predate SplitMix64 here, an epoch's batch plan and EWC's Fisher
/// sample: they use .NET's seeded <see cref="Random"/>, kept so that every recorded run still trains
/// on the same batches. This is the only place that generator is used; new draws use <see cref="Data.SplitMix64"/>.
/// </summary>
public sealed class Shuffler(int seed)
{
    private readonly Random random = new(seed);

    /// <summary>Permutes <paramref name="items"/> in place; successive calls continue the same stream.</summary>
    public void Shuffle<T>(T[] items) => random.Shuffle(items);
}
