using Migu.Continual.Data;

namespace Migu.Continual.Tests.Data;

public sealed class StratifiedSamplerTests
{
    private static readonly string[] Labels = ["a", "b", "c"];

    [Fact]
    public void Exact_shares_are_kept_exactly()
    {
        Assert.Equal([70, 20, 10], StratifiedSampler.Allocate([700, 200, 100], 100));
    }

    [Fact]
    public void Leftovers_go_to_the_largest_remainders_and_ties_to_the_first_label()
    {
        // 7 of 5/3/2: shares 3.5, 2.1, 1.4 → floors 3, 2, 1 and one left, to the largest remainder (a).
        Assert.Equal([4, 2, 1], StratifiedSampler.Allocate([5, 3, 2], 7));
        // Equal remainders: 1.5 and 1.5 → the first label takes the extra one.
        Assert.Equal([2, 1], StratifiedSampler.Allocate([3, 3], 3));
    }

    [Fact]
    public void Every_label_is_kept_when_the_cap_allows()
    {
        // Exact shares 9.9, 0.05, 0.05 would drop b and c.
        Assert.Equal([8, 1, 1], StratifiedSampler.Allocate([990, 5, 5], 10));
        // Three labels present but only two places: the largest shares win.
        Assert.Equal([1, 1, 0], StratifiedSampler.Allocate([5, 4, 3], 2));
        // An absent label never gets a place.
        Assert.Equal([2, 0, 1], StratifiedSampler.Allocate([6, 0, 3], 3));
    }

    [Fact]
    public void A_cap_at_or_above_the_size_keeps_everything()
    {
        Assert.Equal([3, 0, 2], StratifiedSampler.Allocate([3, 0, 2], 9));
        Example[] examples = TempDataRoot.Examples(("a", 3), ("b", 2));
        Assert.Same(examples, StratifiedSampler.Sample(examples, Labels, 5, seed: 1));
    }

    [Fact]
    public void A_sample_keeps_proportions_and_file_order()
    {
        Example[] examples = Interleave(TempDataRoot.Examples(("a", 60), ("b", 30), ("c", 10)));

        IReadOnlyList<Example> sample = StratifiedSampler.Sample(examples, Labels, 20, seed: 5);

        Assert.Equal(12, sample.Count(e => e.Label == "a"));
        Assert.Equal(6, sample.Count(e => e.Label == "b"));
        Assert.Equal(2, sample.Count(e => e.Label == "c"));
        int[] positions = sample.Select(e => Array.IndexOf(examples, e)).ToArray();
        Assert.Equal(positions.Order(), positions);
    }

    [Fact]
    public void The_same_seed_draws_the_same_sample_and_another_seed_another()
    {
        Example[] examples = TempDataRoot.Examples(("a", 50), ("b", 50), ("c", 50));

        IReadOnlyList<Example> first = StratifiedSampler.Sample(examples, Labels, 30, seed: 9);
        IReadOnlyList<Example> again = StratifiedSampler.Sample(examples, Labels, 30, seed: 9);
        IReadOnlyList<Example> other = StratifiedSampler.Sample(examples, Labels, 30, seed: 10);

        Assert.Equal(first, again);
        Assert.NotEqual(first, other);
    }

    [Fact]
    public void A_split_partitions_the_examples()
    {
        Example[] examples = TempDataRoot.Examples(("a", 7), ("b", 5), ("c", 3));

        StratifiedSplit split = StratifiedSampler.Split(examples, Labels, 5, seed: 3);

        Assert.Equal(5, split.Chosen.Count);
        Assert.Equal(10, split.Rest.Count);
        Assert.Empty(split.Chosen.Intersect(split.Rest));
        Assert.Equal(examples.Order(ExampleOrder.Instance), split.Chosen.Concat(split.Rest).Order(ExampleOrder.Instance));
        Assert.Equal([2, 2, 1], Labels.Select(l => split.Chosen.Count(e => e.Label == l)));
    }

    [Fact]
    public void An_example_with_a_label_outside_the_list_is_a_caller_bug()
    {
        Example[] examples = [new("x", "z")];

        Assert.Throws<ArgumentException>(() => StratifiedSampler.Split(examples, Labels, 0, seed: 1));
    }

    private static Example[] Interleave(Example[] examples) =>
        examples.Select((e, i) => (e, i)).OrderBy(p => p.i % 10).ThenBy(p => p.i).Select(p => p.e).ToArray();

    private sealed class ExampleOrder : IComparer<Example>
    {
        public static readonly ExampleOrder Instance = new();

        public int Compare(Example? x, Example? y) => string.CompareOrdinal(x?.Sentence, y?.Sentence);
    }
}
