using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Core.Optim;

/// <summary>
/// AdamW (decoupled weight decay, PyTorch's formula) with MIGU's strict update mode. Unmasked
/// parameters follow torch.optim.AdamW exactly. A row-masked weight keeps a step count per row,
/// so a row's bias correction counts only the steps in which it actually moved.
/// </summary>
public sealed class RowMaskedAdamW : RowMaskedOptimizer, IStatefulOptimizer
{
    private readonly Dictionary<Parameter, State> states = new(ReferenceEqualityComparer.Instance);

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

    /// <summary>torch.optim.AdamW's single-tensor update, term for term.</summary>
    private void UpdateWhole(Parameter p, Tensor grad, State state)
    {
        double lr = LearningRate;
        p.mul_(1 - (lr * WeightDecay));
        state.ExpAvg.lerp_(grad, 1 - Beta1);
        state.ExpAvgSq.mul_(Beta2).addcmul_(grad, grad, 1 - Beta2);
        double bias1 = 1 - Math.Pow(Beta1, state.Step);
        double bias2Sqrt = Math.Sqrt(1 - Math.Pow(Beta2, state.Step));
        Tensor denom = state.ExpAvgSq.sqrt().div_(bias2Sqrt).add_(Epsilon);
        p.addcdiv_(state.ExpAvg, denom, -lr / bias1);
    }

    /// <summary>
    /// The same update on the kept rows only: they are gathered, updated with AdamW's formula
    /// (their own step counts in the bias corrections) and scattered back, so frozen rows are
    /// never written and the work shrinks with the kept fraction (30% of rows at T = 0.7).
    /// </summary>
    private void UpdateRows(Parameter p, Tensor grad, Tensor? rowMask, State state)
    {
        double lr = LearningRate;
        state.RowSteps ??= CreateRowSteps(p, state.Step - 1);
        if (rowMask is null)
        {
            // Every row steps (e.g. MIGU switched off for a while): in place, no gather.
            Tensor all = state.RowSteps.add_(1);
            Tensor denomAll = RowAdam(p, grad, state.ExpAvg, state.ExpAvgSq, all, lr);
            p.add_(state.ExpAvg.div(denomAll).mul_(BiasCorrection(Beta1, all).reciprocal_().mul_(-lr)));
            return;
        }

        Tensor rows = rowMask.reshape(-1).nonzero().reshape(-1); // (k) indices of kept rows
        if (rows.shape[0] == 0)
        {
            return;
        }

        Tensor steps = state.RowSteps.index_select(0, rows).add_(1); // (k, 1)
        state.RowSteps.index_copy_(0, rows, steps);
        Tensor pk = p.index_select(0, rows); // (k, …)
        Tensor mk = state.ExpAvg.index_select(0, rows);
        Tensor vk = state.ExpAvgSq.index_select(0, rows);
        Tensor denom = RowAdam(pk, grad.index_select(0, rows), mk, vk, steps, lr);
        pk.add_(mk.div(denom).mul_(BiasCorrection(Beta1, steps).reciprocal_().mul_(-lr)));
        p.index_copy_(0, rows, pk);
        state.ExpAvg.index_copy_(0, rows, mk);
        state.ExpAvgSq.index_copy_(0, rows, vk);
    }

    /// <summary>Decay, both moments and the denominator √v̂ + ε, in place; <paramref name="steps"/> is (rows, 1).</summary>
    private Tensor RowAdam(Tensor p, Tensor g, Tensor m, Tensor v, Tensor steps, double lr)
    {
        p.mul_(1 - (lr * WeightDecay));
        m.lerp_(g, 1 - Beta1);
        v.mul_(Beta2).addcmul_(g, g, 1 - Beta2);
        return v.sqrt().div_(BiasCorrection(Beta2, steps).sqrt_()).add_(Epsilon);
    }

    /// <summary>1 − β^s per row, in fp32 whatever the weight's dtype.</summary>
    private static Tensor BiasCorrection(double beta, Tensor steps) => steps.to(ScalarType.Float32).mul_(Math.Log(beta)).exp_().neg_().add_(1);

    /// <summary>
    /// Counts in int64, not in the weight's dtype: bf16 holds integers exactly only up to 256, so a
    /// bf16 count stopped there (257 rounds to 256) and the bias correction froze with it.
    /// </summary>
    private static Tensor CreateRowSteps(Parameter p, long stepsSoFar)
    {
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
