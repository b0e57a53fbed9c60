using Migu.Core.Runtime;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Core.Optim;

/// <summary>
/// AdamW (decoupled weight decay, PyTorch's formula) with MIGU's strict update mode. Unmasked
/// parameters follow torch.optim.AdamW exactly. A row-masked weight keeps a step count per row,
/// so a row's bias correction counts only the steps in which it actually moved. With the
/// fused-adamw lever, the weights that update whole go through aten::_fused_adamw_ in one call per
/// step (same formula, fp32 rounding may differ in the last bit); with kept-row indices (the
/// indexed-rows lever) update mode finds its rows without <c>nonzero</c>.
/// </summary>
public sealed class RowMaskedAdamW : RowMaskedOptimizer, IStatefulOptimizer
{
    private readonly Dictionary<Parameter, State> states = new(ReferenceEqualityComparer.Instance);
    private readonly List<(Parameter P, Tensor Grad, State State)> fusedBatch = [];
    private bool fusing;

    public RowMaskedAdamW(IEnumerable<Parameter> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0.01)
        : base(parameters, learningRate)
    {
        if (beta1 is < 0 or >= 1 || beta2 is < 0 or >= 1)
        {
            throw new MiguUserException($"AdamW betas must lie in [0, 1), got ({beta1}, {beta2})");
        }

        if (!(epsilon > 0) || !(weightDecay >= 0))
        {
            throw new MiguUserException($"AdamW needs eps > 0 and weight decay ≥ 0, got eps {epsilon}, weight decay {weightDecay}");
        }

        Beta1 = beta1;
        Beta2 = beta2;
        Epsilon = epsilon;
        WeightDecay = weightDecay;
    }

    public double Beta1 { get; }

    public double Beta2 { get; }

    public double Epsilon { get; }

    public double WeightDecay { get; }

    /// <summary>The hyperparameters, for optimizers that run this formula over their own buffers.</summary>
    internal AdamWSettings Settings => new(Beta1, Beta2, Epsilon, WeightDecay);

    /// <summary>
    /// Where a parameter's per-row step counts live once it is row-masked, for a caller that keeps
    /// them in its own buffer: given the parameter, returns a (rows, 1) int64 view to fill. Null: a tensor of its own.
    /// </summary>
    internal Func<Parameter, Tensor>? RowStepsStorage { get; set; }

    /// <summary>Per-row step counts of <paramref name="p"/> (rows, 1), or null while it was never row-masked.</summary>
    internal Tensor? RowStepsOf(Parameter p) => states.TryGetValue(p, out State? s) ? s.RowSteps : null;

    /// <summary>Makes <paramref name="p"/> count steps per row from now on, every row at <paramref name="stepsSoFar"/>.</summary>
    internal void StartRowSteps(Parameter p, long stepsSoFar)
    {
        State state = states[p];
        state.RowSteps ??= CreateRowSteps(p, stepsSoFar);
    }

    /// <summary>
    /// Forgets every per-row step count: each weight continues with one count for all its rows (its
    /// own step count). Rows that were frozen get a larger bias correction than they earned; a
    /// benchmark that alternates update mode with the others on one model calls this so the other
    /// modes run their usual path.
    /// </summary>
    public void ForgetRowSteps()
    {
        foreach (State s in states.Values)
        {
            s.RowSteps?.Dispose(); // its own tensor, or a handle on a view of the caller's buffer
            s.RowSteps = null;
        }
    }

    /// <summary>
    /// Makes <paramref name="expAvg"/> and <paramref name="expAvgSq"/> (views into a caller's flat
    /// buffers) the moments of <paramref name="p"/>, which has taken <paramref name="step"/> steps.
    /// The views stay owned by the caller.
    /// </summary>
    internal void AdoptMoments(Parameter p, Tensor expAvg, Tensor expAvgSq, long step)
    {
        if (!states.TryGetValue(p, out State? state))
        {
            state = new State(expAvg, expAvgSq);
            states[p] = state;
        }

        state.Step = step;
    }

    /// <summary>Steps taken by <paramref name="p"/> (0 before its first).</summary>
    internal long StepsOf(Parameter p) => states.TryGetValue(p, out State? s) ? s.Step : 0;

    /// <summary>First and second moments of a parameter (null until its first step).</summary>
    public (Tensor ExpAvg, Tensor ExpAvgSq)? MomentsOf(Parameter p) =>
        states.TryGetValue(p, out State? s) ? (s.ExpAvg, s.ExpAvgSq) : null;

    /// <summary>
    /// The optimizer state as named tensors for a checkpoint: for each parameter that has stepped,
    /// <c>{name}.exp_avg</c>, <c>{name}.exp_avg_sq</c>, <c>{name}.step</c> (int64 scalar) and, once it
    /// was row-masked, <c>{name}.row_steps</c>. The tensors are the live state (or new scalars); save, don't keep.
    /// </summary>
    public Dictionary<string, Tensor> ExportState(IReadOnlyDictionary<Parameter, string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (p, s) in states)
        {
            string name = names.TryGetValue(p, out string? n) ? n : throw new ArgumentException("a parameter of this optimizer has no name", nameof(names));
            result[name + ".exp_avg"] = s.ExpAvg;
            result[name + ".exp_avg_sq"] = s.ExpAvgSq;
            result[name + ".step"] = tensor(s.Step);
            if (s.RowSteps is not null)
            {
                result[name + ".row_steps"] = s.RowSteps;
            }
        }

        return result;
    }

    /// <summary>Restores <see cref="ExportState"/>'s tensors (copied onto each parameter's device); parameters absent from <paramref name="state"/> start fresh.</summary>
    public void ImportState(IReadOnlyDictionary<string, Tensor> state, IReadOnlyDictionary<Parameter, string> names)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(names);
        using var noGrad = no_grad();
        foreach (Parameter p in Parameters)
        {
            string name = names[p];
            if (!state.TryGetValue(name + ".exp_avg", out Tensor? m))
            {
                continue;
            }

            if (!states.TryGetValue(p, out State? s))
            {
                s = new State(p);
                states[p] = s;
            }

            s.ExpAvg.copy_(m);
            s.ExpAvgSq.copy_(state[name + ".exp_avg_sq"]);
            s.Step = state[name + ".step"].item<long>();
            if (state.TryGetValue(name + ".row_steps", out Tensor? rows))
            {
                s.RowSteps ??= CreateRowSteps(p, 0);
                s.RowSteps.copy_(rows);
            }
        }
    }

    protected override void Update(Parameter p, Tensor grad, Tensor? rowMask)
    {
        if (!states.TryGetValue(p, out State? state))
        {
            state = new State(p);
            states[p] = state;
        }

        state.Step++;
        if (rowMask is null && state.RowSteps is null)
        {
            UpdateWhole(p, grad, state);
        }
        else
        {
            // Once a weight has been row-masked it keeps per-row step counts for good.
            UpdateRows(p, grad, rowMask, state);
        }
    }

    protected override bool TryUpdateKeptRows(Parameter p, Tensor grad, Tensor keptRows)
    {
        if (!states.TryGetValue(p, out State? state))
        {
            state = new State(p);
            states[p] = state;
        }

        state.Step++;
        state.RowSteps ??= CreateRowSteps(p, state.Step - 1);
        UpdateGathered(p, grad, keptRows, state.ExpAvg, state.ExpAvgSq, state.RowSteps, LearningRate, Settings);
        return true;
    }

    protected override void BeginStep()
    {
        fusing = Parameters.Count > 0 && PerformanceLevers.On(Parameters[0].device_type).FusedAdamW;
    }

    /// <summary>The weights that update whole this step, in one aten::_fused_adamw_ call per (step count, dtype, device).</summary>
    protected override void EndStep()
    {
        fusing = false;
        if (fusedBatch.Count == 0)
        {
            return;
        }

        foreach (var group in fusedBatch.GroupBy(e => (e.State.Step, e.P.dtype, e.P.device.ToString())))
        {
            using var scope = NewDisposeScope();
            var entries = group.ToList();
            Tensor step = full(1, group.Key.Step, ScalarType.Float32, entries[0].P.device);
            ScriptKernels.FusedAdamW(
                [.. entries.Select(e => (Tensor)e.P)],
                [.. entries.Select(e => e.Grad)],
                [.. entries.Select(e => e.State.ExpAvg)],
                [.. entries.Select(e => e.State.ExpAvgSq)],
                [.. entries.Select(_ => step)],
                LearningRate, Beta1, Beta2, WeightDecay, Epsilon);
        }

        fusedBatch.Clear();
    }

    /// <summary>torch.optim.AdamW's single-tensor update, term for term (or queued for the fused kernel).</summary>
    private void UpdateWhole(Parameter p, Tensor grad, State state)
    {
        if (fusing && grad.dtype == p.dtype)
        {
            fusedBatch.Add((p, grad, state));
            return;
        }

        WholeStep(p, grad, state.ExpAvg, state.ExpAvgSq, state.Step, LearningRate, Settings);
    }

    /// <summary>torch.optim.AdamW's single-tensor update on <paramref name="p"/> and its moments, which have taken <paramref name="step"/> steps counting this one.</summary>
    internal static void WholeStep(Tensor p, Tensor grad, Tensor expAvg, Tensor expAvgSq, long step, double lr, AdamWSettings s)
    {
        using var scope = NewDisposeScope();
        p.mul_(1 - (lr * s.WeightDecay));
        expAvg.lerp_(grad, 1 - s.Beta1);
        expAvgSq.mul_(s.Beta2).addcmul_(grad, grad, 1 - s.Beta2);
        double bias1 = 1 - Math.Pow(s.Beta1, step);
        double bias2Sqrt = Math.Sqrt(1 - Math.Pow(s.Beta2, step));
        Tensor denom = expAvgSq.sqrt().div_(bias2Sqrt).add_(s.Epsilon);
        p.addcdiv_(expAvg, denom, -lr / bias1);
    }

    /// <summary>
    /// Update mode on the rows <paramref name="rows"/> (k) of <paramref name="p"/>: gathered, stepped
    /// with their own step counts (<paramref name="rowSteps"/> (rows, 1), advanced here), scattered
    /// back. Frozen rows are never written. Works on any (rows, …) layout, so a caller can pass many
    /// weights of one shape stacked as one (n·rows, …) view with row indices into it. Returns the
    /// updated rows (k, …) in the caller's dispose scope, or null when no row is kept.
    /// </summary>
    internal static Tensor? UpdateGathered(Tensor p, Tensor grad, Tensor rows, Tensor expAvg, Tensor expAvgSq, Tensor rowSteps, double lr, AdamWSettings s)
    {
        if (rows.shape[0] == 0)
        {
            return null;
        }

        using var scope = NewDisposeScope();
        Tensor steps = rowSteps.index_select(0, rows).add_(1); // (k, 1)
        rowSteps.index_copy_(0, rows, steps);
        Tensor pk = p.index_select(0, rows); // (k, …)
        Tensor mk = expAvg.index_select(0, rows);
        Tensor vk = expAvgSq.index_select(0, rows);
        Tensor gk = grad.index_select(0, rows);
        if (gk.dtype != pk.dtype)
        {
            gk = gk.to(pk.dtype); // bf16 gradients of fp32 masters: converted after the gather, only the kept rows
        }

        RowStep(pk, gk, mk, vk, steps, lr, s);
        p.index_copy_(0, rows, pk);
        expAvg.index_copy_(0, rows, mk);
        expAvgSq.index_copy_(0, rows, vk);
        return pk.MoveToOuterDisposeScope();
    }

    /// <summary>AdamW with per-row step counts <paramref name="steps"/> (rows, 1) counting this step, in place on every row given.</summary>
    internal static void RowStep(Tensor p, Tensor g, Tensor m, Tensor v, Tensor steps, double lr, AdamWSettings s)
    {
        using var scope = NewDisposeScope();
        p.mul_(1 - (lr * s.WeightDecay));
        m.lerp_(g, 1 - s.Beta1);
        v.mul_(s.Beta2).addcmul_(g, g, 1 - s.Beta2);
        Tensor denom = v.sqrt().div_(BiasCorrection(s.Beta2, steps).sqrt_()).add_(s.Epsilon);
        p.add_(m.div(denom).mul_(BiasCorrection(s.Beta1, steps).reciprocal_().mul_(-lr)));
    }

    /// <summary>
    /// The same update on the kept rows only: they are gathered, updated with AdamW's formula
    /// (their own step counts in the bias corrections) and scattered back, so frozen rows are
    /// never written and the work shrinks with the kept fraction (30% of rows at T = 0.7).
    /// </summary>
    private void UpdateRows(Parameter p, Tensor grad, Tensor? rowMask, State state)
    {
        state.RowSteps ??= CreateRowSteps(p, state.Step - 1);
        if (rowMask is null)
        {
            // Every row steps (e.g. MIGU switched off for a while): in place, no gather.
            RowStep(p, grad, state.ExpAvg, state.ExpAvgSq, state.RowSteps.add_(1), LearningRate, Settings);
            return;
        }

        Tensor rows = rowMask.reshape(-1).nonzero().reshape(-1); // (k) indices of kept rows: a host synchronisation
        UpdateGathered(p, grad, rows, state.ExpAvg, state.ExpAvgSq, state.RowSteps, LearningRate, Settings);
    }

    /// <summary>1 − β^s per row, in fp32 whatever the weight's dtype.</summary>
    private static Tensor BiasCorrection(double beta, Tensor steps) => steps.to(ScalarType.Float32).mul_(Math.Log(beta)).exp_().neg_().add_(1);

    /// <summary>
    /// Counts in int64, not in the weight's dtype: bf16 holds integers exactly only up to 256, so a
    /// bf16 count stopped there (257 rounds to 256) and the bias correction froze with it.
    /// </summary>
    private Tensor CreateRowSteps(Parameter p, long stepsSoFar)
    {
        if (RowStepsStorage is not null)
        {
            return RowStepsStorage(p).fill_(stepsSoFar);
        }

        Tensor rowSteps = full([p.shape[0], 1], stepsSoFar, ScalarType.Int64, p.device);
        rowSteps.DetachFromDisposeScope();
        return rowSteps;
    }

    protected override void Dispose(bool disposing)
    {
        foreach (State s in states.Values)
        {
            s.Dispose();
        }

        states.Clear();
    }

    private sealed class State : IDisposable
    {
        public State(Parameter p)
        {
            ExpAvg = zeros_like(p);
            ExpAvgSq = zeros_like(p);
            ExpAvg.DetachFromDisposeScope();
            ExpAvgSq.DetachFromDisposeScope();
            OwnsMoments = true;
        }

        /// <summary>Moments that live in someone else's buffers (views); not disposed here.</summary>
        public State(Tensor expAvg, Tensor expAvgSq)
        {
            ExpAvg = expAvg;
            ExpAvgSq = expAvgSq;
        }

        private bool OwnsMoments { get; }

        public long Step { get; set; }

        public Tensor ExpAvg { get; }

        public Tensor ExpAvgSq { get; }

        /// <summary>Per-row step counts (rows, 1), int64, created the first time the weight is row-masked.</summary>
        public Tensor? RowSteps { get; set; }

        public void Dispose()
        {
            if (OwnsMoments)
            {
                ExpAvg.Dispose();
                ExpAvgSq.Dispose();
            }

            RowSteps?.Dispose();
        }
    }
}

/// <summary>AdamW's hyperparameters besides the learning rate (which schedules change every step).</summary>
internal readonly record struct AdamWSettings(double Beta1, double Beta2, double Epsilon, double WeightDecay);
