using Migu.Models;
using static TorchSharp.torch;

namespace Migu.Continual.Pretraining;

/// <summary>
/// Next-token prediction: the labels are the ids themselves (the model shifts them: position t
/// predicts t + 1), −100 on padding. No noise, so the row seeds are not used.
/// </summary>
public sealed class CausalLanguageModeling(ObjectiveTokens tokens) : IPretrainingObjective
{
    public PretrainObjective Kind => PretrainObjective.Causal;

    public ModelBatch Collate(IReadOnlyList<int[]> sequences, IReadOnlyList<ulong> rowSeeds, Device device)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        long[][] rows = [.. sequences.Select(s => s.Select(i => (long)i).ToArray())];
        return new ModelBatch
        {
            InputIds = PaddedRows.Ids(rows, tokens.Pad, device),
            AttentionMask = PaddedRows.Mask(rows, device),
            Labels = PaddedRows.Ids(rows, -100, device),
        };
    }
}
