using Migu.Continual.Training;

namespace Migu.Continual.Distributed;

/// <summary>
/// Which examples of a step each rank computes. The step's batch (the same on every rank: the plan
/// is seeded) is split into world × grad_accum micro-batches exactly as one process splits it into
/// world × grad_accum; rank r takes micro-batches r·A … r·A + A − 1. So N ranks compute what one rank
/// computes with grad_accum N·A, micro-batch for micro-batch, and every example of an epoch is seen
/// by exactly one rank.
/// </summary>
public static class BatchSharding
{
    /// <summary>Rank <paramref name="rank"/>'s micro-batches of <paramref name="batch"/> (none when the batch has fewer examples than micro-batches before it).</summary>
    public static IReadOnlyList<MicroBatch> MicroBatches(int[] batch, int gradAccum, int rank, int worldSize)
    {
        ArgumentNullException.ThrowIfNull(batch);
        ArgumentOutOfRangeException.ThrowIfLessThan(gradAccum, 1);
        ArgumentOutOfRangeException.ThrowIfLessThan(worldSize, 1);
        ArgumentOutOfRangeException.ThrowIfNegative(rank);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(rank, worldSize);
        return [.. TaskTrainer.Split(batch, worldSize * gradAccum)
            .Select((examples, index) => new MicroBatch(index, examples))
            .Where(m => m.Index / gradAccum == rank)];
    }
}

/// <summary>One forward/backward of a training step: its examples and its place among the step's micro-batches.</summary>
/// <param name="Index">0-based among all micro-batches of the step, over every rank (it seeds the micro-batch's dropout).</param>
/// <param name="Examples">Indices into the task's training data.</param>
public sealed record MicroBatch(int Index, int[] Examples);
