using Migu.Continual.Data;
using Migu.Continual.Pretraining;
using Migu.Core;
using static TorchSharp.torch;

namespace Migu.Continual.Tests.Pretraining;

public sealed class SpanCorruptionTests
{
    private static readonly ObjectiveTokens Tokens = HandTokens.Of();
    private static readonly int S0 = Tokens.Sentinels[0];
    private static readonly int S1 = Tokens.Sentinels[1];

    [Theory]
    [InlineData(20, 3, 1)] // round(20 · 0.15) = 3 noise tokens, round(3 / 3) = 1 span
    [InlineData(100, 15, 5)]
    [InlineData(512, 77, 26)] // 76.8 → 77; 25.67 → 26
    [InlineData(2, 1, 1)] // at least one noise token and one kept
    public void Noise_and_span_counts_follow_density_and_mean_span_length(int length, int noise, int spans)
    {
        var span = new SpanCorruption(Tokens, maxLength: 20);
        Assert.Equal((noise, spans), span.Layout(length));
    }

    [Fact]
    public void The_noise_mask_has_the_planned_noise_in_the_planned_spans_and_starts_with_kept_tokens()
    {
        var span = new SpanCorruption(Tokens, maxLength: 100);
        for (ulong seed = 0; seed < 100; seed++)
        {
            bool[] mask = span.NoiseMask(100, new SplitMix64(seed));
            Assert.Equal(15, mask.Count(m => m));
            Assert.Equal(5, Enumerable.Range(0, 100).Count(i => mask[i] && (i == 0 || !mask[i - 1])));
            Assert.False(mask[0]);
        }
    }

    [Fact]
    public void A_forced_layout_gives_the_sentinel_layout_by_hand()
    {
        // 4 tokens, density 0.5, mean span 1: 2 noise tokens in 2 spans and 2 kept in 2 stretches,
        // which can only interleave as kept, noise, kept, noise.
        var span = new SpanCorruption(Tokens, maxLength: 4, noiseDensity: 0.5, meanSpanLength: 1);
        var (input, target) = span.CorruptRow([100, 101, 102, 103], new SplitMix64(5));
        Assert.Equal([100, S0, 102, S1, 1], input);
        Assert.Equal([S0, 101, S1, 103, 1], target);

        // 3 tokens, one noise token in one span after two kept ones.
        var one = new SpanCorruption(Tokens, maxLength: 3, noiseDensity: 0.34, meanSpanLength: 3);
        var (oneInput, oneTarget) = one.CorruptRow([200, 201, 202], new SplitMix64(9));
        Assert.Equal([200, 201, S0, 1], oneInput);
        Assert.Equal([S0, 202, 1], oneTarget);
    }

    [Fact]
    public void Input_and_target_together_spell_the_original_sequence()
    {
        var span = new SpanCorruption(Tokens, maxLength: 60);
        int[] ids = [.. Enumerable.Range(100, 60)];
        for (ulong seed = 0; seed < 30; seed++)
        {
            var (input, target) = span.CorruptRow(ids, new SplitMix64(seed));
            Assert.Equal(1, input[^1]);
            Assert.Equal(1, target[^1]);
            Assert.Equal(ids, Reassemble(input[..^1], target[..^1]));
            int[] sentinelsIn = [.. input.Where(Tokens.Sentinels.Contains)];
            Assert.Equal(Tokens.Sentinels.Take(sentinelsIn.Length), sentinelsIn); // <extra_id_0>, <extra_id_1>, … in order
        }
    }

    [Fact]
    public void Collate_makes_a_t5_batch_with_padded_targets()
    {
        var span = new SpanCorruption(Tokens, maxLength: 40);
        var batch = span.Collate([[.. Enumerable.Range(100, 40)], [.. Enumerable.Range(100, 10)]], [3UL, 4UL], CPU);
        Assert.NotNull(batch.DecoderAttentionMask);
        long[] labels = batch.Labels!.data<long>().ToArray();
        long[] decoderMask = batch.DecoderAttentionMask!.data<long>().ToArray();
        Assert.All(Enumerable.Range(0, labels.Length), i => Assert.Equal(decoderMask[i] == 0, labels[i] == -100));
    }

    [Fact]
    public void Too_few_sentinels_for_the_sequence_length_is_refused()
    {
        var e = Assert.Throws<MiguUserException>(() => new SpanCorruption(HandTokens.Of(sentinels: 4), maxLength: 128));
        Assert.Contains("sentinels", e.Message, StringComparison.Ordinal);
    }

    /// <summary>Puts each sentinel's span from the target back where the sentinel stands in the input.</summary>
    private static int[] Reassemble(int[] input, int[] target)
    {
        var spans = new Dictionary<int, List<int>>();
        int current = -1;
        foreach (int id in target)
        {
            if (Tokens.Sentinels.Contains(id))
            {
                current = id;
                spans[id] = [];
            }
            else
            {
                spans[current].Add(id);
            }
        }

        return [.. input.SelectMany(id => spans.TryGetValue(id, out List<int>? s) ? s : [id])];
    }
}
