using Migu.Continual.Data;

namespace Migu.Continual.Tests.Data;

public sealed class SplitMix64Tests
{
    [Fact]
    public void Seed_zero_gives_the_reference_sequence()
    {
        // The first outputs of Vigna's splitmix64.c seeded with 0.
        var rng = new SplitMix64(0);

        Assert.Equal(0xE220A8397B1DCDAFUL, rng.NextUInt64());
        Assert.Equal(0x6E789E6AA1B965F4UL, rng.NextUInt64());
        Assert.Equal(0x06C45D188009454FUL, rng.NextUInt64());
    }

    [Fact]
    public void A_shuffle_is_fixed_by_its_seed()
    {
        // Fisher–Yates from the top with unbiased draws, as computed by an independent Python transcription.
        var items = Enumerable.Range(0, 10).ToList();

        new SplitMix64(7).Shuffle(items);

        Assert.Equal([8, 1, 5, 9, 0, 4, 3, 2, 6, 7], items);
    }

    [Fact]
    public void Draws_stay_in_range_and_reach_every_value()
    {
        var rng = new SplitMix64(123);
        int[] seen = new int[7];
        for (int i = 0; i < 7000; i++)
        {
            seen[rng.NextInt(7)]++;
        }

        Assert.All(seen, count => Assert.InRange(count, 850, 1150));
        Assert.Throws<ArgumentOutOfRangeException>(() => rng.NextInt(0));
    }

    [Fact]
    public void Derived_seeds_are_stable_and_differ_by_task_purpose_and_seed()
    {
        // FNV-1a of "agnews/train" mixed with the seed, as computed in Python.
        Assert.Equal(9375989119004028220UL, SplitMix64.Derive(42, "agnews", "train"));
        Assert.Equal(188011651318201508UL, SplitMix64.Derive(-1, "agnews", "train"));

        ulong[] seeds =
        [
            SplitMix64.Derive(42, "agnews", "train"),
            SplitMix64.Derive(42, "agnews", "test"),
            SplitMix64.Derive(42, "yelp", "train"),
            SplitMix64.Derive(43, "agnews", "train"),
        ];
        Assert.Equal(seeds.Length, seeds.Distinct().Count());
    }
}
