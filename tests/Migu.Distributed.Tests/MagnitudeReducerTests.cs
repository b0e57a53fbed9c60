using Migu.Core;
using static TorchSharp.torch;

namespace Migu.Distributed.Tests;

/// <summary>MIGU's masks come from the magnitudes after the reducer: with data parallelism, every rank's share of the batch.</summary>
public sealed class MagnitudeReducerTests
{
    [Fact]
    public void Masks_rank_units_by_the_reduced_magnitudes_in_one_call_for_all_widths()
    {
        using var scope = NewDisposeScope();
        manual_seed(5);
        var narrow = new Projection(4, 4, hasBias: false, ProjectionKind.Query);
        var wide = new Projection(4, 6, hasBias: false, ProjectionKind.FeedForwardUp);
        var options = new MiguOptions { Threshold = 0.5, SkipFirstTask = false, Layers = "all" };
        using var migu = new MiguController([MaskTarget.For("q", narrow), MaskTarget.For("up", wide)], options);
        int calls = 0;
        // "The other rank" saw large outputs on unit 0 of every layer: that unit must be kept everywhere.
        migu.MagnitudeReducer = accumulators =>
        {
            calls++;
            Assert.Equal(2, accumulators.Count); // both width groups at once
            foreach (Tensor a in accumulators)
            {
                a[.., 0].add_(1e6f);
            }
        };
        using (migu.Recording())
        {
            narrow.forward(ones(3, 4));
            wide.forward(ones(3, 4));
        }

        float[] before = migu.MagnitudesOf(migu.Targets[0]).data<float>().ToArray();

        migu.BuildMasks();

        Assert.Equal(1, calls);
        Assert.Equal(before[0] + 1e6f, migu.MagnitudesOf(migu.Targets[0]).data<float>()[0]);
        Assert.Equal(1f, migu.MaskOf(migu.Targets[0]).data<float>()[0]);
        Assert.Equal(1f, migu.MaskOf(migu.Targets[1]).data<float>()[0]);
    }

    [Fact]
    public void Random_masks_need_no_reduction()
    {
        using var scope = NewDisposeScope();
        var p = new Projection(4, 4, hasBias: false, ProjectionKind.Query);
        using var migu = new MiguController([MaskTarget.For("q", p)], new MiguOptions { Threshold = 0.5, Source = MaskSource.Random, SkipFirstTask = false });
        migu.MagnitudeReducer = _ => throw new InvalidOperationException("a random mask source has no magnitudes to combine");

        migu.BuildMasks();
    }
}
