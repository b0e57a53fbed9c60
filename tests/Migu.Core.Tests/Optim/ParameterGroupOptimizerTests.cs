using Migu.Core.Optim;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Core.Tests.Optim;

/// <summary>
/// Parameter groups at multiples of one learning rate, checked against one plain AdamW (itself
/// checked against torch.optim.AdamW in PyTorchParityTests) over copies of the same weights: without
/// weight decay AdamW's step is lr × a function of the gradients alone, so a group at 10× the rate
/// moves exactly 10× as far and a group at 1× moves exactly as the plain optimizer does.
/// </summary>
public sealed class ParameterGroupOptimizerTests
{
    [Fact]
    public void Each_group_steps_at_its_multiple_of_the_learning_rate_the_schedule_sets()
    {
        manual_seed(11);
        var (encoder, head) = (new Parameter(randn(4, 3)), new Parameter(randn(2, 3)));
        var (encoderCopy, headCopy) = (new Parameter(encoder.detach().clone()), new Parameter(head.detach().clone()));
        using Tensor headStart = head.detach().clone();
        using var grouped = new ParameterGroupOptimizer([(new RowMaskedAdamW([encoder], weightDecay: 0), 1.0), (new RowMaskedAdamW([head], weightDecay: 0), 10.0)], 1e-3);
        using var plain = new RowMaskedAdamW([encoderCopy, headCopy], 1e-3, weightDecay: 0);
        foreach (double lr in new[] { 1e-3, 5e-4, 2e-3 }) // a schedule changes the rate between steps
        {
            grouped.LearningRate = lr;
            plain.LearningRate = lr;
            using Tensor g1 = randn(4, 3);
            using Tensor g2 = randn(2, 3);
            (encoder.grad, encoderCopy.grad, head.grad, headCopy.grad) = (g1.clone(), g1.clone(), g2.clone(), g2.clone());
            grouped.Step(null);
            plain.Step(null);
        }

        Assert.Equal(2e-3, grouped.LearningRate);
        Assert.Equal(Values(encoderCopy), Values(encoder)); // same arithmetic, same order: bit for bit
        using Tensor moved = head.detach() - headStart;
        using Tensor movedPlain = headCopy.detach() - headStart;
        Assert.True(moved.allclose(movedPlain * 10, rtol: 1e-4, atol: 1e-7), $"head moved {moved.abs().max().item<float>()}, plain {movedPlain.abs().max().item<float>()}");
    }

    [Fact]
    public void Update_mode_masks_reach_the_group_that_holds_the_weight()
    {
        manual_seed(12);
        var (encoder, head) = (new Parameter(randn(3, 2)), new Parameter(randn(2, 2)));
        float[] headBefore = Values(head);
        using var grouped = new ParameterGroupOptimizer([(new RowMaskedAdamW([encoder]), 1.0), (new RowMaskedAdamW([head]), 30.0)], 1e-2);
        (encoder.grad, head.grad) = (randn(3, 2), randn(2, 2));
        using Tensor mask = tensor(new float[] { 0, 1 }).unsqueeze(1);
        grouped.Step(new Dictionary<Parameter, Tensor>(ReferenceEqualityComparer.Instance) { [head] = mask });

        float[] after = Values(head);
        Assert.Equal(headBefore[..2], after[..2]); // row 0 frozen
        Assert.NotEqual(headBefore[2..], after[2..]);
    }

    [Fact]
    public void State_exports_under_the_callers_names_and_a_resumed_optimizer_continues_exactly()
    {
        manual_seed(13);
        var (a, b) = (new Parameter(randn(3, 2)), new Parameter(randn(2, 2)));
        var (a2, b2) = (new Parameter(a.detach().clone()), new Parameter(b.detach().clone()));
        var names = new Dictionary<Parameter, string>(ReferenceEqualityComparer.Instance) { [a] = "p0", [b] = "p1" };
        var names2 = new Dictionary<Parameter, string>(ReferenceEqualityComparer.Instance) { [a2] = "p0", [b2] = "p1" };
        using var first = new ParameterGroupOptimizer([(new RowMaskedAdamW([a]), 1.0), (new RowMaskedAdamW([b]), 20.0)], 1e-2);
        (a.grad, b.grad) = (randn(3, 2), randn(2, 2));
        first.Step(null);
        a2.detach().copy_(a);
        b2.detach().copy_(b);
        using var second = new ParameterGroupOptimizer([(new RowMaskedAdamW([a2]), 1.0), (new RowMaskedAdamW([b2]), 20.0)], 1e-2);
        Dictionary<string, Tensor> state = first.ExportState(names);
        Assert.Equal(["p0.exp_avg", "p0.exp_avg_sq", "p0.step", "p1.exp_avg", "p1.exp_avg_sq", "p1.step"], state.Keys.Order(StringComparer.Ordinal));
        second.ImportState(state, names2);

        using Tensor ga = randn(3, 2);
        using Tensor gb = randn(2, 2);
        (a.grad, b.grad, a2.grad, b2.grad) = (ga.clone(), gb.clone(), ga.clone(), gb.clone());
        first.Step(null);
        second.Step(null);
        Assert.Equal(Values(a), Values(a2));
        Assert.Equal(Values(b), Values(b2));
    }

    [Fact]
    public void A_parameter_in_two_groups_or_a_multiple_that_is_not_positive_is_refused()
    {
        var w = new Parameter(randn(2, 2));
        Assert.Throws<ArgumentException>(() => new ParameterGroupOptimizer([(new RowMaskedAdamW([w]), 1.0), (new RowMaskedAdamW([w]), 2.0)], 1e-3));
        var e = Assert.Throws<MiguUserException>(() => new ParameterGroupOptimizer([(new RowMaskedAdamW([w]), 0.0)], 1e-3));
        Assert.Contains("> 0", e.Message, StringComparison.Ordinal);
    }

    private static float[] Values(Tensor t) => t.detach().contiguous().data<float>().ToArray();
}
