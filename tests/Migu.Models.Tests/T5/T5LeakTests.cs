using Migu.Core;
using Migu.Models.T5;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Tests.T5;

/// <summary>Training steps and generation leave no live tensors behind (caches and scopes are disposed).</summary>
public class T5LeakTests
{
    [Fact]
    public void Training_steps_and_generation_leave_no_live_tensors_behind()
    {
        var fx = T5Fixture.Load("v11");
        using var model = T5ForConditionalGeneration.FromPretrained(fx.Directory);
        model.train();
        var projections = T5Fixture.InstallAccumulators(model);
        using var ids = fx.InputIds();
        using var mask = fx.AttentionMask();
        using var labels = fx.Labels();
        using var decoderMask = fx.DecoderAttentionMask();

        void Step()
        {
            using var scope = NewDisposeScope();
            model.zero_grad();
            model.forward(new ModelBatch { InputIds = ids, AttentionMask = mask, Labels = labels, DecoderAttentionMask = decoderMask }).Loss!.backward();
            model.Generate(ids, mask, 5);
        }

        Step(); // gradients come to life here
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 5; i++)
        {
            Step();
        }

        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
        foreach (Projection p in projections.Values)
        {
            p.MagnitudeAccumulator!.Dispose();
        }
    }
}
