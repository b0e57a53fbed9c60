using Migu.Continual.Data;
using Migu.Continual.Training;
using Migu.Models;
using static TorchSharp.torch;

namespace Migu.Continual.Pretraining;

/// <summary>
/// Packed sequences of a domain as the training loop's data: each item is one sequence, collated by
/// the objective. Item i's noise in an epoch comes from (run seed, domain, epoch, i), so masks are
/// new every epoch, independent of batching, and the same again when a run resumes.
/// </summary>
public sealed class PackedTextData(IReadOnlyList<int[]> sequences, IPretrainingObjective objective, BatchDraw fixedDraw) : ITrainingData
{
    public IReadOnlyList<int[]> Sequences => sequences;

    public IPretrainingObjective Objective => objective;

    public int Count => sequences.Count;

    public int TokensOf(int index) => sequences[index].Length;

    /// <summary>Outside training (held-out loss, EWC's Fisher) every call draws the same noise: that of the fixed draw given at construction.</summary>
    public ModelBatch Collate(IReadOnlyList<int> indices, Device device) => Collate(indices, device, fixedDraw);

    public ModelBatch Collate(IReadOnlyList<int> indices, Device device, BatchDraw draw)
    {
        ArgumentNullException.ThrowIfNull(indices);
        ulong[] seeds = [.. indices.Select(i => RowSeed(draw, i))];
        return objective.Collate([.. indices.Select(i => sequences[i])], seeds, device);
    }

    /// <summary>The seed of item <paramref name="item"/>'s noise in <paramref name="draw"/>.</summary>
    public static ulong RowSeed(BatchDraw draw, int item) =>
        new SplitMix64((ulong)Seeds.Derive(draw.Seed, SeedPurpose.ObjectiveNoise, draw.TaskIndex, draw.Epoch, item)).NextUInt64();
}
