using Migu.Continual.Data;
using Migu.Core;
using Migu.Models;
using static TorchSharp.torch;

namespace Migu.Continual.Pretraining;

/// <summary>
/// Masked language modelling with dynamic masking (RoBERTa): in each sequence a fraction p of the
/// tokens that are not special — ⌊p·n + u⌋ of them, u uniform in [0, 1), at least one, as fairseq
/// counts — is chosen; each chosen token becomes &lt;mask&gt; with probability 0.8, a random
/// non-special token with 0.1, and stays with 0.1. The loss is on the chosen positions only
/// (labels −100 elsewhere). A new mask is drawn every time a sequence is collated.
/// </summary>
public sealed class MaskedLanguageModeling : IPretrainingObjective
{
    public const double MaskShare = 0.8;
    public const double RandomShare = 0.1;

    private const long Ignore = -100;
    private readonly ObjectiveTokens tokens;
    private readonly int mask;

    public MaskedLanguageModeling(ObjectiveTokens tokens, double probability = 0.15)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (probability is <= 0 or >= 1)
        {
            throw new MiguUserException($"pretrain.mask_probability must be in (0, 1), got {probability}");
        }

        mask = tokens.Mask ?? throw new MiguUserException("masked LM needs a <mask> token and the tokenizer has none");
        if (tokens.Special.Count >= tokens.VocabSize)
        {
            throw new MiguUserException("masked LM: every id of the tokenizer is special; there is nothing to draw random replacements from");
        }

        this.tokens = tokens;
        Probability = probability;
    }

    public PretrainObjective Kind => PretrainObjective.Mlm;

    public double Probability { get; }

    /// <summary>One sequence masked: the model's input and the labels (the original id at chosen positions, −100 elsewhere).</summary>
    public (long[] Input, long[] Labels) MaskRow(int[] ids, SplitMix64 random)
    {
        ArgumentNullException.ThrowIfNull(ids);
        ArgumentNullException.ThrowIfNull(random);
        long[] input = [.. ids.Select(i => (long)i)];
        long[] labels = new long[ids.Length];
        Array.Fill(labels, Ignore);
        int[] candidates = [.. Enumerable.Range(0, ids.Length).Where(i => !tokens.Special.Contains(ids[i]))];
        if (candidates.Length == 0)
        {
            return (input, labels);
        }

        int count = Math.Clamp((int)Math.Floor((Probability * candidates.Length) + random.NextDouble()), 1, candidates.Length);
        foreach (int position in random.Choose(candidates, count))
        {
            labels[position] = ids[position];
            double roll = random.NextDouble();
            if (roll < MaskShare)
            {
                input[position] = mask;
            }
            else if (roll < MaskShare + RandomShare)
            {
                input[position] = RandomOrdinaryId(random);
            }
        }

        return (input, labels);
    }

    public ModelBatch Collate(IReadOnlyList<int[]> sequences, IReadOnlyList<ulong> rowSeeds, Device device)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        ArgumentNullException.ThrowIfNull(rowSeeds);
        var rows = sequences.Select((s, r) => MaskRow(s, new SplitMix64(rowSeeds[r]))).ToList();
        return new ModelBatch
        {
            InputIds = PaddedRows.Ids([.. rows.Select(r => r.Input)], tokens.Pad, device),
            AttentionMask = PaddedRows.Mask([.. rows.Select(r => r.Input)], device),
            Labels = PaddedRows.Ids([.. rows.Select(r => r.Labels)], Ignore, device),
        };
    }

    /// <summary>A uniform id of the tokenizer that is not special (never pad, which would shift RoBERTa's positions).</summary>
    private int RandomOrdinaryId(SplitMix64 random)
    {
        while (true)
        {
            int id = random.NextInt(tokens.VocabSize);
            if (!tokens.Special.Contains(id))
            {
                return id;
            }
        }
    }
}
