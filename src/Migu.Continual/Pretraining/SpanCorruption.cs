using Migu.Continual.Data;
using Migu.Core;
using Migu.Models;
using static TorchSharp.torch;

namespace Migu.Continual.Pretraining;

/// <summary>
/// T5's span corruption. In a sequence of n tokens, round(n·density) are noise (at least one, and
/// at least one token is not), in round(noise / mean span) spans; the noise and the non-noise are
/// each cut into that many pieces at random and interleaved, non-noise first (T5's
/// random_spans_noise_mask). The input keeps the non-noise tokens and puts sentinel k
/// (&lt;extra_id_k&gt;) where the k-th span was; the target is each sentinel followed by its span.
/// Both end with EOS: "a b c d e f" with noise {b, c} and {f} reads "a &lt;0&gt; d e &lt;1&gt; &lt;/s&gt;"
/// and predicts "&lt;0&gt; b c &lt;1&gt; f &lt;/s&gt;".
/// </summary>
public sealed class SpanCorruption : IPretrainingObjective
{
    private const long Ignore = -100;
    private readonly ObjectiveTokens tokens;
    private readonly int eos;

    public SpanCorruption(ObjectiveTokens tokens, int maxLength, double noiseDensity = 0.15, double meanSpanLength = 3)
    {
        ArgumentNullException.ThrowIfNull(tokens);
        if (noiseDensity is <= 0 or >= 1)
        {
            throw new MiguUserException($"pretrain.noise_density must be in (0, 1), got {noiseDensity}");
        }

        if (meanSpanLength < 1)
        {
            throw new MiguUserException($"pretrain.mean_span_length must be at least 1, got {meanSpanLength}");
        }

        eos = tokens.Eos ?? throw new MiguUserException("span corruption needs an EOS token and the tokenizer has none");
        this.tokens = tokens;
        NoiseDensity = noiseDensity;
        MeanSpanLength = meanSpanLength;
        int spans = Layout(maxLength).Spans;
        if (spans > tokens.Sentinels.Count)
        {
            throw new MiguUserException(
                $"span corruption of {maxLength} tokens makes up to {spans} spans but the tokenizer has {tokens.Sentinels.Count} sentinels (<extra_id_0> …); use a shorter seq_len or a tokenizer with more sentinels");
        }
    }

    public PretrainObjective Kind => PretrainObjective.Span;

    public double NoiseDensity { get; }

    public double MeanSpanLength { get; }

    /// <summary>How many of <paramref name="length"/> tokens are noise, and in how many spans.</summary>
    public (int Noise, int Spans) Layout(int length)
    {
        if (length < 2)
        {
            throw new MiguUserException($"span corruption needs sequences of at least 2 tokens, got {length}");
        }

        int noise = Math.Clamp((int)Math.Round(length * NoiseDensity, MidpointRounding.ToEven), 1, length - 1);
        int spans = Math.Clamp((int)Math.Round(noise / MeanSpanLength, MidpointRounding.ToEven), 1, Math.Min(noise, length - noise));
        return (noise, spans);
    }

    /// <summary>Which of <paramref name="length"/> positions are noise: spans interleaved with kept stretches, a kept stretch first.</summary>
    public bool[] NoiseMask(int length, SplitMix64 random)
    {
        ArgumentNullException.ThrowIfNull(random);
        var (noise, spans) = Layout(length);
        int[] noiseLengths = Segment(noise, spans, random);
        int[] keptLengths = Segment(length - noise, spans, random);
        var mask = new bool[length];
        int at = 0;
        for (int s = 0; s < spans; s++)
        {
            at += keptLengths[s];
            Array.Fill(mask, true, at, noiseLengths[s]);
            at += noiseLengths[s];
        }

        return mask;
    }

    /// <summary>One sequence corrupted: the encoder's input and the decoder's target, each ending in EOS.</summary>
    public (int[] Input, int[] Target) CorruptRow(int[] ids, SplitMix64 random)
    {
        ArgumentNullException.ThrowIfNull(ids);
        bool[] noise = NoiseMask(ids.Length, random);
        var input = new List<int>(ids.Length + 1);
        var target = new List<int>();
        int span = -1;
        for (int i = 0; i < ids.Length; i++)
        {
            if (!noise[i])
            {
                input.Add(ids[i]);
                continue;
            }

            if (i == 0 || !noise[i - 1])
            {
                span++;
                input.Add(tokens.Sentinels[span]);
                target.Add(tokens.Sentinels[span]);
            }

            target.Add(ids[i]);
        }

        input.Add(eos);
        target.Add(eos);
        return ([.. input], [.. target]);
    }

    public ModelBatch Collate(IReadOnlyList<int[]> sequences, IReadOnlyList<ulong> rowSeeds, Device device)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        ArgumentNullException.ThrowIfNull(rowSeeds);
        var rows = sequences.Select((s, r) => CorruptRow(s, new SplitMix64(rowSeeds[r]))).ToList();
        long[][] inputs = [.. rows.Select(r => r.Input.Select(i => (long)i).ToArray())];
        long[][] targets = [.. rows.Select(r => r.Target.Select(i => (long)i).ToArray())];
        return new ModelBatch
        {
            InputIds = PaddedRows.Ids(inputs, tokens.Pad, device),
            AttentionMask = PaddedRows.Mask(inputs, device),
            Labels = PaddedRows.Ids(targets, Ignore, device),
            DecoderAttentionMask = PaddedRows.Mask(targets, device),
        };
    }

    /// <summary>
    /// <paramref name="items"/> cut into <paramref name="parts"/> non-empty pieces at random (T5's
    /// _random_segmentation): parts − 1 of the items − 1 gaps, chosen uniformly, are the cuts.
    /// </summary>
    private static int[] Segment(int items, int parts, SplitMix64 random)
    {
        int[] gaps = [.. Enumerable.Range(1, items - 1)];
        int[] cuts = [.. random.Choose(gaps, parts - 1).Order()];
        var lengths = new int[parts];
        int previous = 0;
        for (int p = 0; p < parts - 1; p++)
        {
            lengths[p] = cuts[p] - previous;
            previous = cuts[p];
        }

        lengths[^1] = items - previous;
        return lengths;
    }
}
