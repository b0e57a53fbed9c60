using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Core.Tests;

public class ProjectionRecordingTests
{
    // W (3×2), b (3); tokens [1, 1] and [2, −1] are real, [100, 100] is padding.
    // y = [−1, 2, −2] and [4, 1.5, −3] → Σ|y| over real tokens = [5, 3.5, 5].
    private static readonly float[] Weight = [1, -2, 0.5f, 0.5f, -1, 0];
    private static readonly float[] BiasValues = [0, 1, -1];
    private static readonly float[] Tokens = [1, 1, 2, -1, 100, 100];

    private static Projection HandProjection(ScalarType dtype)
    {
        var p = new Projection(2, 3, dtype: dtype);
        using var noGrad = no_grad();
        p.Weight.copy_(tensor(Weight).reshape(3, 2));
        p.Bias!.copy_(tensor(BiasValues));
        return p;
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    public void Magnitudes_sum_absolute_outputs_over_real_tokens_only(ScalarType dtype)
    {
        using var p = HandProjection(dtype);
        using var acc = zeros(3);
        p.MagnitudeAccumulator = acc;
        using var x = tensor(Tokens).reshape(1, 3, 2).to(dtype);
        using var mask = tensor(new long[] { 1, 1, 0 }).reshape(1, 3);

        using (TokenMask.Use(mask))
        {
            p.call(x).Dispose();
        }

        Assert.Equal(ScalarType.Float32, acc.dtype);
        Assert.Equal([5f, 3.5f, 5f], TestTensors.Values(acc));
    }

    [Fact]
    public void Without_a_mask_every_token_counts()
    {
        using var p = HandProjection(ScalarType.Float32);
        using var acc = zeros(3);
        p.MagnitudeAccumulator = acc;
        using var x = tensor(Tokens).reshape(3, 2);

        p.call(x).Dispose();

        // The padding token gives y = [−100, 101, −101].
        Assert.Equal([105f, 104.5f, 106f], TestTensors.Values(acc));
    }

    [Fact]
    public void Recording_accumulates_over_micro_batches_and_stays_out_of_autograd()
    {
        using var p = HandProjection(ScalarType.Float32);
        using var acc = zeros(3);
        p.MagnitudeAccumulator = acc;
        using var first = tensor(Tokens[..2]).reshape(1, 2);
        using var second = tensor(Tokens[2..4]).reshape(1, 2);

        using var y1 = p.call(first);
        using var y2 = p.call(second);

        Assert.Equal([5f, 3.5f, 5f], TestTensors.Values(acc));
        Assert.False(acc.requires_grad);
        Assert.True(y1.requires_grad);
    }

    [Fact]
    public void Not_recording_leaves_no_trace()
    {
        using var p = HandProjection(ScalarType.Float32);
        using var x = tensor(Tokens).reshape(3, 2);
        using var y = p.call(x);
        Assert.Null(p.MagnitudeAccumulator);
        Assert.Equal([-1f, 2, -2, 4, 1.5f, -3, -100, 101, -101], TestTensors.Values(y));
    }

    [Fact]
    public void A_mask_that_does_not_fit_the_tokens_is_a_clear_error()
    {
        using var p = HandProjection(ScalarType.Float32);
        using var acc = zeros(3);
        p.MagnitudeAccumulator = acc;
        using var x = tensor(Tokens).reshape(3, 2);
        using var mask = ones(2);

        using (TokenMask.Use(mask))
        {
            var e = Assert.Throws<MiguUserException>(() => p.call(x));
            Assert.Contains("2 tokens", e.Message, StringComparison.Ordinal);
        }
    }

    [Fact]
    public void Token_masks_nest_and_restore()
    {
        using var outer = ones(4);
        using var inner = ones(2);
        Assert.Null(TokenMask.Current);
        using (TokenMask.Use(outer))
        {
            Assert.Equal(4, TokenMask.Current!.shape[0]);
            using (TokenMask.Use(inner))
            {
                Assert.Equal(2, TokenMask.Current!.shape[0]);
            }

            Assert.Equal(4, TokenMask.Current!.shape[0]);
        }

        Assert.Null(TokenMask.Current);
    }

    [Fact]
    public void Parameter_names_are_the_hugging_face_ones()
    {
        using var withBias = new Projection(4, 3);
        using var without = new Projection(4, 3, hasBias: false);
        Assert.Equal(["weight", "bias"], withBias.named_parameters().Select(p => p.name));
        Assert.Equal(["weight"], without.named_parameters().Select(p => p.name));
        Assert.Equal([3L, 4L], withBias.Weight.shape);
    }
}
