using Migu.Core.Optim;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Core.Tests;

/// <summary>
/// A projection 1→2 with weights [1, 1], loss Σ y (so ∇W = x per row), x = 1. Step 1 runs without
/// MIGU; step 2 with T = 0.5: both rows have equal magnitude, so the tie rule keeps row 0 and masks row 1.
/// Expected values come from AdamW's scalar formula written out here.
/// </summary>
public class MaskedStepTests
{
    private const double Lr = 0.1;
    private const double Wd = 0.1;
    private const double B1 = 0.9;
    private const double B2 = 0.999;
    private const double Eps = 1e-8;

    private static (float Row0, float Row1, float Row1AfterStep1, RowMaskedAdamW Optimizer) TwoSteps(MiguMode mode)
    {
        var p = new Projection(1, 2, hasBias: false, kind: ProjectionKind.FeedForwardUp);
        using (no_grad())
        {
            p.Weight.fill_(1.0);
        }

        var optimizer = new RowMaskedAdamW(p.parameters(), Lr, B1, B2, Eps, Wd);
        using var migu = new MiguController(p, new MiguOptions { Threshold = 0.5, Mode = mode });
        float row1AfterStep1 = float.NaN;
        for (int task = 0; task < 2; task++)
        {
            migu.BeginTask(task); // task 0 is trained without MIGU (SkipFirstTask)
            using var scope = NewDisposeScope();
            optimizer.ZeroGrad();
            using (migu.Recording())
            {
                p.call(ones(1, 1)).sum().backward();
            }

            migu.Step(optimizer);
            if (task == 0)
            {
                row1AfterStep1 = TestTensors.Values(p.Weight)[1];
            }
        }

        float[] w = TestTensors.Values(p.Weight);
        return (w[0], w[1], row1AfterStep1, optimizer);
    }

    /// <summary>One scalar AdamW step: returns (param, m, v).</summary>
    private static (double P, double M, double V) Adam(double p, double m, double v, double g, int t, bool frozen = false)
    {
        if (frozen)
        {
            return (p, m, v);
        }

        p *= 1 - (Lr * Wd);
        m = (B1 * m) + ((1 - B1) * g);
        v = (B2 * v) + ((1 - B2) * g * g);
        double mHat = m / (1 - Math.Pow(B1, t));
        double vHat = v / (1 - Math.Pow(B2, t));
        return (p - (Lr * mHat / (Math.Sqrt(vHat) + Eps)), m, v);
    }

    [Fact]
    public void Gradient_mode_masked_row_still_moves_through_momentum_and_weight_decay()
    {
        var (row0, row1, _, optimizer) = TwoSteps(MiguMode.Gradient);
        using var _ = optimizer;
        var s1 = Adam(1, 0, 0, 1, 1);
        var kept = Adam(s1.P, s1.M, s1.V, 1, 2);
        var masked = Adam(s1.P, s1.M, s1.V, 0, 2); // zeroed gradient, moments still decay and drive it

        Assert.Equal(kept.P, row0, 5);
        Assert.Equal(masked.P, row1, 5);
        Assert.NotEqual((float)s1.P, row1);
    }

    [Fact]
    public void Update_mode_masked_row_does_not_move_at_all()
    {
        var (row0, row1, row1AfterStep1, optimizer) = TwoSteps(MiguMode.Update);
        using var _ = optimizer;
        var s1 = Adam(1, 0, 0, 1, 1);
        var kept = Adam(s1.P, s1.M, s1.V, 1, 2);

        Assert.Equal(kept.P, row0, 5);
        Assert.Equal(s1.P, row1AfterStep1, 5);
        Assert.Equal(row1AfterStep1, row1); // bit-identical to the weight after step 1
        var (m, v) = optimizer.MomentsOf((TorchSharp.Modules.Parameter)optimizer.Parameters[0])!.Value;
        Assert.Equal(s1.M, TestTensors.Values(m)[1], 6);
        Assert.Equal(s1.V, TestTensors.Values(v)[1], 6);
    }

    [Fact]
    public void Update_mode_counts_steps_per_row_for_bias_correction()
    {
        // Row 1 sits out step 2; at step 3 (all rows kept) it takes its second step, so its bias
        // correction uses t = 2, not 3.
        var p = new Projection(1, 2, hasBias: false, kind: ProjectionKind.FeedForwardUp);
        using (no_grad())
        {
            p.Weight.fill_(1.0);
        }

        using var optimizer = new RowMaskedAdamW(p.parameters(), Lr, B1, B2, Eps, Wd);
        using var migu = new MiguController(p, new MiguOptions { Threshold = 0.5, Mode = MiguMode.Update });
        int[] tasks = [0, 1, 0];
        foreach (int task in tasks)
        {
            migu.BeginTask(task);
            using var scope = NewDisposeScope();
            optimizer.ZeroGrad();
            using (migu.Recording())
            {
                p.call(ones(1, 1)).sum().backward();
            }

            migu.Step(optimizer);
        }

        var s1 = Adam(1, 0, 0, 1, 1);
        var row1 = Adam(s1.P, s1.M, s1.V, 1, 2);
        Assert.Equal(row1.P, TestTensors.Values(p.Weight)[1], 5);
    }

    [Fact]
    public void Unmasked_AdamW_matches_TorchSharps_own_AdamW()
    {
        torch.manual_seed(7);
        using var ours = new TinyMlp();
        using var theirs = new TinyMlp();
        theirs.load_state_dict(ours.state_dict());
        using var optOurs = new RowMaskedAdamW(ours.parameters(), 0.01, 0.9, 0.99, 1e-6, 0.05);
        using var optTheirs = torch.optim.AdamW(theirs.parameters(), 0.01, 0.9, 0.99, 1e-6, 0.05);
        using var x = randn(4, 8);
        for (int step = 0; step < 3; step++)
        {
            using var scope = NewDisposeScope();
            optOurs.ZeroGrad();
            optTheirs.zero_grad();
            ours.call(x).square().mean().backward();
            theirs.call(x).square().mean().backward();
            optOurs.Step(null);
            optTheirs.step();
        }

        foreach (var ((name, a), (_, b)) in ours.named_parameters().Zip(theirs.named_parameters()))
        {
            TestTensors.AssertClose(TestTensors.Values(b).Select(v => (double)v).ToArray(), TestTensors.Values(a), 1e-6, 1e-5, name);
        }
    }

    [Fact]
    public void Sgd_update_mode_keeps_masked_rows_and_their_momentum()
    {
        var p = new Projection(1, 2, hasBias: false, kind: ProjectionKind.FeedForwardUp);
        using (no_grad())
        {
            p.Weight.fill_(1.0);
        }

        using var optimizer = new RowMaskedSgd(p.parameters(), 0.1, momentum: 0.9, weightDecay: 0.1);
        using var migu = new MiguController(p, new MiguOptions { Threshold = 0.5, Mode = MiguMode.Update });
        float afterFirst = 0;
        for (int task = 0; task < 2; task++)
        {
            migu.BeginTask(task);
            using var scope = NewDisposeScope();
            optimizer.ZeroGrad();
            using (migu.Recording())
            {
                p.call(ones(1, 1)).sum().backward();
            }

            migu.Step(optimizer);
            if (task == 0)
            {
                afterFirst = TestTensors.Values(p.Weight)[1];
            }
        }

        // Step 1: d = g + wd·p = 1.1, buffer 1.1, p = 1 − 0.11 = 0.89.
        Assert.Equal(0.89f, afterFirst, 6);
        // Step 2, row 0 kept: d = 1 + 0.089, buffer = 0.9·1.1 + 1.089 = 2.079, p = 0.89 − 0.2079.
        Assert.Equal(0.89 - 0.2079, TestTensors.Values(p.Weight)[0], 5);
        Assert.Equal(afterFirst, TestTensors.Values(p.Weight)[1]);
    }

    [Fact]
    public void Sgd_without_masks_follows_the_textbook_formula()
    {
        var p = new Projection(1, 1, hasBias: false);
        using (no_grad())
        {
            p.Weight.fill_(2.0);
        }

        using var optimizer = new RowMaskedSgd(p.parameters(), 0.5, momentum: 0.5, nesterov: true);
        for (int i = 0; i < 2; i++)
        {
            using var scope = NewDisposeScope();
            optimizer.ZeroGrad();
            p.call(ones(1, 1)).sum().backward(); // g = 1
            optimizer.Step(null);
        }

        // Nesterov: step 1 buffer 1, d = 1 + 0.5 = 1.5 → 1.25; step 2 buffer 1.5, d = 1.75 → 0.375.
        Assert.Equal(0.375f, TestTensors.Values(p.Weight)[0], 6);
    }

    [Fact]
    public void Bf16_row_step_counts_keep_counting_past_256_so_bias_correction_keeps_moving()
    {
        // bf16 holds integers exactly only up to 256: a count kept in the weight's dtype stopped
        // there, and step 601's bias correction used t = 256 (√(1 − β2^t) off by ~30%).
        const int Steps = 600;
        const double LearningRate = 0.5;
        var p = new TorchSharp.Modules.Parameter(zeros(2, 1, ScalarType.BFloat16));
        using var optimizer = new RowMaskedAdamW([p], LearningRate, B1, B2, Eps, weightDecay: 0);
        using Tensor keepRow0 = tensor(new float[] { 1, 0 }).reshape(2, 1);
        var masks = new Dictionary<TorchSharp.Modules.Parameter, Tensor> { [p] = keepRow0 };
        void Step()
        {
            using var scope = NewDisposeScope();
            optimizer.ZeroGrad();
            p.sum().backward(); // ∇ = 1 on every row
            optimizer.Step(masks);
        }

        for (int i = 0; i < Steps; i++)
        {
            Step();
        }

        var (m, v) = optimizer.MomentsOf(p)!.Value;
        double m0 = TestTensors.Values(m)[0];
        double v0 = TestTensors.Values(v)[0];
        using (no_grad())
        {
            p.zero_(); // the last update alone shows in the weight, exactly representable around 0
        }

        Step();

        int t = Steps + 1;
        double mHat = ((B1 * m0) + (1 - B1)) / (1 - Math.Pow(B1, t));
        double vHat = ((B2 * v0) + (1 - B2)) / (1 - Math.Pow(B2, t));
        double expected = -LearningRate * mHat / (Math.Sqrt(vHat) + Eps);
        float[] w = TestTensors.Values(p);
        Assert.True(Math.Abs(w[0] - expected) <= 0.02 * Math.Abs(expected), $"row 0 moved {w[0]}, AdamW at t = {t} gives {expected}");
        Assert.Equal(0f, w[1]); // never kept: never moved
        Dictionary<string, Tensor> state = optimizer.ExportState(new Dictionary<TorchSharp.Modules.Parameter, string> { [p] = "w" });
        Assert.Equal([(long)t, 0L], state["w.row_steps"].reshape(-1).data<long>().ToArray());
    }
}
