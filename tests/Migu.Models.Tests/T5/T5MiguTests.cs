using Migu.Core;
using Migu.Core.Optim;
using Migu.Models.T5;
using static TorchSharp.torch;

namespace Migu.Models.Tests.T5;

/// <summary>MIGU on T5: every projection is a target by kind, and in update mode masked rows stay put.</summary>
public class T5MiguTests
{
    [Fact]
    public void A_masked_update_step_moves_only_the_kept_rows_of_each_projection()
    {
        var fx = T5Fixture.Load("v10");
        using var model = T5ForConditionalGeneration.FromPretrained(fx.Directory);
        model.train();
        using var optimizer = new RowMaskedAdamW(model.parameters(), learningRate: 1e-2, weightDecay: 0.0);
        using var migu = new MiguController(model, new MiguOptions { Mode = MiguMode.Update, SkipFirstTask = false, Threshold = 0.5 });
        migu.BeginTask(0);
        // q, k, v, o in 2 + 2·2 attentions and wi/wo in 4 FFNs; "all" means attention and FFN, not the head.
        Assert.Equal((6 * 4) + (4 * 2), migu.Targets.Count);

        Projection first = Find(model, "encoder.block.0.layer.0.SelfAttention.q");
        Projection head = Find(model, "lm_head");
        using var q = first.Weight.detach().clone();
        using var headBefore = head.Weight.detach().clone();
        using var scope = NewDisposeScope();
        optimizer.ZeroGrad();
        using (migu.Recording())
        {
            model.forward(new ModelBatch
            {
                InputIds = fx.InputIds(), AttentionMask = fx.AttentionMask(), Labels = fx.Labels(), DecoderAttentionMask = fx.DecoderAttentionMask(),
            }).Loss!.backward();
        }

        migu.Step(optimizer);

        Tensor moved = first.Weight.detach().ne(q).any(1); // (d_out)
        long kept = first.OutFeatures - (long)Math.Floor(0.5 * first.OutFeatures);
        Assert.Equal(kept, moved.sum().item<long>());
        Assert.True(head.Weight.detach().ne(headBefore).any(1).all().item<bool>(), "the head is not a MIGU target, every row moves");
    }

    private static Projection Find(T5ForConditionalGeneration model, string name) =>
        (Projection)model.named_modules().Single(m => m.name == name).module;
}
