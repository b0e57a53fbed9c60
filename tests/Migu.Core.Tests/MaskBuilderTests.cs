using static TorchSharp.torch;

namespace Migu.Core.Tests;

public class MaskBuilderTests
{
    [Theory]
    [InlineData(16, 0.7, 11)]
    [InlineData(8, 0.7, 5)]
    [InlineData(10, 0.0, 0)]
    [InlineData(4096, 0.99, 4055)]
    public void Masked_count_is_floor_of_T_times_width(long width, double t, long expected) =>
        Assert.Equal(expected, MaskBuilder.MaskedCount(width, t));

    [Fact]
    public void TopK_keeps_the_largest_units_and_breaks_ties_towards_the_lower_index()
    {
        // T = 0.7 on 10 units: 7 masked, 3 kept: 9 (index 5), 6 (index 7), and of the two 5s index 4.
        using var n = tensor(new float[] { 3, 1, 4, 1, 5, 9, 2, 6, 5, 3 }).reshape(1, 10);
        using var mask = MaskBuilder.TopK(n, 0.7);
        Assert.Equal([0f, 0, 0, 0, 1, 1, 0, 1, 0, 0], TestTensors.Values(mask));
    }

    [Fact]
    public void TopK_with_all_ties_keeps_the_first_units_of_each_layer()
    {
        using var n = tensor(new float[] { 2, 2, 2, 2, 0, 7, 0, 7 }).reshape(2, 4);
        using var mask = MaskBuilder.TopK(n, 0.5);
        Assert.Equal([1f, 1, 0, 0, 0, 1, 0, 1], TestTensors.Values(mask));
    }

    [Fact]
    public void TopK_at_T_zero_keeps_everything()
    {
        using var n = rand(3, 7);
        using var mask = MaskBuilder.TopK(n, 0.0);
        Assert.All(TestTensors.Values(mask), v => Assert.Equal(1f, v));
    }

    [Fact]
    public void Quantile_rule_interpolates_linearly_and_keeps_values_at_or_above()
    {
        // Position 0.7·(5−1) = 2.8 → q = 3 + 0.8·(4 − 3) = 3.8; keep 4 and 5.
        using var n = tensor(new float[] { 5, 1, 4, 2, 3 }).reshape(1, 5);
        using var mask = MaskBuilder.Quantile(n, 0.7);
        Assert.Equal([1f, 0, 1, 0, 0], TestTensors.Values(mask));
    }

    [Fact]
    public void Quantile_rule_keeps_every_tie_at_the_threshold_unlike_TopK()
    {
        using var n = ones(1, 4);
        using var quantile = MaskBuilder.Quantile(n, 0.7);
        using var topk = MaskBuilder.TopK(n, 0.7);
        Assert.Equal(4f, TestTensors.Values(quantile).Sum());
        Assert.Equal(2f, TestTensors.Values(topk).Sum());
    }

    [Fact]
    public void Layers_in_one_batch_get_the_masks_they_would_get_alone()
    {
        using var n = randn(5, 33).abs_();
        using var batched = MaskBuilder.TopK(n, 0.7);
        for (int i = 0; i < 5; i++)
        {
            using var row = n[i].unsqueeze(0);
            using var alone = MaskBuilder.TopK(row, 0.7);
            using var batchedRow = batched[i];
            Assert.Equal(TestTensors.Values(alone), TestTensors.Values(batchedRow));
        }
    }

    [Fact]
    public void Magnitudes_must_be_a_layers_by_units_matrix()
    {
        using var n = ones(4);
        Assert.Throws<MiguUserException>(() => MaskBuilder.TopK(n, 0.5));
    }
}
