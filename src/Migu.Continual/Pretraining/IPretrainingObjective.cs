using Migu.Models;
using static TorchSharp.torch;

namespace Migu.Continual.Pretraining;

/// <summary>
/// Turns packed sequences of ids into a training batch with labels. Objectives with noise (masked
/// LM, span corruption) draw each row's noise from that row's own seed, so a row's noise does not
/// depend on the rest of the batch.
/// </summary>
public interface IPretrainingObjective
{
    PretrainObjective Kind { get; }

    /// <summary>A padded batch of <paramref name="sequences"/>; row r draws its noise from <paramref name="rowSeeds"/>[r].</summary>
    ModelBatch Collate(IReadOnlyList<int[]> sequences, IReadOnlyList<ulong> rowSeeds, Device device);
}
