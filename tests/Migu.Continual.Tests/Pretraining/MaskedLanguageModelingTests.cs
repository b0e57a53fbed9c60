using Migu.Continual.Data;
using Migu.Continual.Pretraining;
using Migu.Core;
using static TorchSharp.torch;

namespace Migu.Continual.Tests.Pretraining;

public sealed class MaskedLanguageModelingTests
{
    private static readonly ObjectiveTokens Tokens = HandTokens.Of();

    /// <summary>&lt;s&gt; 20 ordinary tokens &lt;/s&gt; &lt;s&gt; 3 more &lt;/s&gt;: 23 candidates, 4 special positions.</summary>
    private static readonly int[] Sequence = [2, .. Enumerable.Range(100, 20), 1, 2, 300, 301, 302, 1];

    [Fact]
    public void Chooses_floor_of_p_times_n_plus_u_non_special_positions_and_labels_only_them()
    {
        var mlm = new MaskedLanguageModeling(Tokens, probability: 0.2);
        // 0.2 · 23 = 4.6: ⌊4.6 + u⌋ is 4 or 5, depending on u.
        var counts = new HashSet<int>();
        for (ulong seed = 0; seed < 200; seed++)
        {
            var (input, labels) = mlm.MaskRow(Sequence, new SplitMix64(seed));
            int[] chosen = [.. Enumerable.Range(0, Sequence.Length).Where(i => labels[i] != -100)];
            counts.Add(chosen.Length);
            Assert.All(chosen, i => Assert.False(Tokens.Special.Contains(Sequence[i])));
            Assert.All(chosen, i => Assert.Equal(Sequence[i], labels[i]));
            Assert.All(Enumerable.Range(0, Sequence.Length).Except(chosen), i => Assert.Equal(Sequence[i], input[i]));
        }

        Assert.Equal([4, 5], counts.Order());
    }

    [Fact]
    public void A_whole_p_times_n_is_the_exact_count()
    {
        var mlm = new MaskedLanguageModeling(Tokens, probability: 0.15);
        int[] twenty = [.. Enumerable.Range(100, 20)]; // 0.15 · 20 = 3 exactly: ⌊3 + u⌋ = 3
        for (ulong seed = 0; seed < 50; seed++)
        {
            Assert.Equal(3, mlm.MaskRow(twenty, new SplitMix64(seed)).Labels.Count(l => l != -100));
        }
    }

    [Fact]
    public void Chosen_tokens_are_masked_80_replaced_10_and_kept_10_percent_of_the_time()
    {
        var mlm = new MaskedLanguageModeling(Tokens, probability: 0.15);
        int masked = 0, replaced = 0, kept = 0;
        for (ulong seed = 0; seed < 4000; seed++)
        {
            var (input, labels) = mlm.MaskRow(Sequence, new SplitMix64(seed));
            for (int i = 0; i < Sequence.Length; i++)
            {
                if (labels[i] == -100)
                {
                    continue;
                }

                if (input[i] == Tokens.Mask)
                {
                    masked++;
                }
                else if (input[i] == Sequence[i])
                {
                    kept++;
                }
                else
                {
                    replaced++;
                    Assert.False(Tokens.Special.Contains((int)input[i]), "a random replacement is never a special token");
                    Assert.InRange(input[i], 0, Tokens.VocabSize - 1);
                }
            }
        }

        double total = masked + replaced + kept;
        Assert.InRange(masked / total, 0.78, 0.82);
        Assert.InRange(replaced / total, 0.085, 0.115);
        Assert.InRange(kept / total, 0.085, 0.115);
    }

    [Fact]
    public void Every_row_has_a_label_even_when_p_times_n_rounds_to_zero()
    {
        var mlm = new MaskedLanguageModeling(Tokens, probability: 0.15);
        for (ulong seed = 0; seed < 50; seed++)
        {
            Assert.Equal(1, mlm.MaskRow([2, 500, 1], new SplitMix64(seed)).Labels.Count(l => l != -100));
        }

        Assert.All(mlm.MaskRow([2, 1, 0], new SplitMix64(1)).Labels, l => Assert.Equal(-100, l)); // nothing to choose
    }

    [Fact]
    public void The_same_seed_draws_the_same_mask_and_another_seed_another()
    {
        var mlm = new MaskedLanguageModeling(Tokens);
        int[] long40 = [.. Enumerable.Range(100, 40)];
        Assert.Equal(mlm.MaskRow(long40, new SplitMix64(7)), mlm.MaskRow(long40, new SplitMix64(7)), new RowComparer());
        Assert.NotEqual(mlm.MaskRow(long40, new SplitMix64(7)).Labels, mlm.MaskRow(long40, new SplitMix64(8)).Labels);
    }

    [Fact]
    public void Collate_pads_inputs_with_the_pad_id_and_labels_with_minus_100()
    {
        var mlm = new MaskedLanguageModeling(Tokens);
        var batch = mlm.Collate([Sequence, [2, 400, 401, 1]], [1UL, 2UL], CPU);
        Assert.Equal([2L, Sequence.Length], batch.InputIds.shape);
        long[] ids = batch.InputIds.data<long>().ToArray();
        long[] mask = batch.AttentionMask!.data<long>().ToArray();
        long[] labels = batch.Labels!.data<long>().ToArray();
        int w = Sequence.Length;
        Assert.All(Enumerable.Range(w + 4, w - 4), i => Assert.Equal((0L, 0L, -100L), (ids[i], mask[i], labels[i])));
        Assert.Equal(w + 4, mask.Sum());
    }

    [Fact]
    public void Refuses_a_tokenizer_without_a_mask_and_a_probability_outside_0_1()
    {
        Assert.Throws<MiguUserException>(() => new MaskedLanguageModeling(Tokens with { Mask = null }));
        Assert.Throws<MiguUserException>(() => new MaskedLanguageModeling(Tokens, probability: 1));
    }

    private sealed class RowComparer : IEqualityComparer<(long[] Input, long[] Labels)>
    {
        public bool Equals((long[] Input, long[] Labels) x, (long[] Input, long[] Labels) y) => x.Input.SequenceEqual(y.Input) && x.Labels.SequenceEqual(y.Labels);

        public int GetHashCode((long[] Input, long[] Labels) obj) => obj.Input.Length;
    }
}
