using Migu.Core.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Core.Optim;

/// <summary>
/// AdamW for a model whose weights are bf16 (or fp16), built for GPU speed. The trainable weights
/// are moved into one flat low-precision buffer (each parameter becomes a view of it) and their
/// gradients into another (autograd accumulates into the views in place); fp32 master weights and
/// both moments are flat buffers too. Weights of one shape sit side by side (a segment), so a
/// segment is one (n·rows, cols) tensor: a step is a fixed handful of kernels per segment chunk,
/// whatever the number of parameters, instead of ~10 kernels per parameter — the difference between
/// a launch-bound and a bandwidth-bound optimizer on models with hundreds of tensors.
/// The arithmetic is torch.optim.AdamW's, term for term, on the fp32 masters; each weight takes its
/// master's rounding. The levers (<see cref="PerformanceLevers"/>) pick how: the whole-tensor update
/// as aten::_fused_adamw_ (fused-adamw); MIGU's gradient masks applied in the gradient's fp32
/// conversion (folded-masks, <see cref="FoldGradientMasks"/>); update mode's kept rows of all weights
/// of a segment gathered, stepped and scattered at once, from top-k indices without a host
/// synchronisation (indexed-rows). With indexed-rows off, update mode runs the per-parameter path it
/// always had (<see cref="RowMaskedAdamW"/> per master, <c>nonzero</c> per weight). Either way masked
/// rows of the weights, masters and moments stay bit-identical, and row-masked weights count steps per row.
/// </summary>
public sealed class MixedPrecisionAdamW : IStatefulOptimizer, IGradientMaskFolding
{
    private const long ChunkElements = 1L << 26;
    private readonly List<Parameter> parameters;
    private readonly List<Parameter> masters = [];
    private readonly Dictionary<Parameter, Slot> slots = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Parameter, Parameter> masterOf = new(ReferenceEqualityComparer.Instance);
    private readonly List<Segment> segments = [];
    private readonly Tensor flatWeights; // (N) low precision: the model's weights
    private readonly Tensor flatGrads; // (N) low precision: their gradients
    private readonly Tensor flatMasters; // (N) fp32
    private readonly Tensor flatExpAvg; // (N) fp32
    private readonly Tensor flatExpAvgSq; // (N) fp32
    private readonly Tensor stepCount; // (1) fp32 on the device: the fused kernel reads the step from it
    private readonly long totalRows;
    private readonly List<Tensor> views = [];
    private readonly RowMaskedAdamW inner;
    private Tensor? flatRowSteps; // (rows of all weights, 1) int64, made at the first row-masked step
    private RowMaskDictionary? pendingGradientMasks;
    private long step;
    private bool perParameter; // a checkpoint whose weights took different numbers of steps: per parameter for good

    public MixedPrecisionAdamW(IEnumerable<Parameter> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0.01)
    {
        // Tied weights are one Parameter listed twice by some modules: keep each once.
        this.parameters = parameters.Where(p => p.requires_grad).Distinct(ReferenceEqualityComparer.Instance).Cast<Parameter>().ToList();
        if (this.parameters.Count == 0)
        {
            throw new MiguUserException("the optimizer was given no trainable parameter");
        }

        ScalarType dtype = this.parameters[0].dtype;
        Device device = this.parameters[0].device;
        if (this.parameters.Any(p => p.dtype != dtype || p.device_type != device.type || p.device_index != device.index))
        {
            throw new MiguUserException("mixed-precision AdamW needs every trainable weight in one dtype on one device");
        }

        // Segments: weights of one shape, in order of first appearance, each segment contiguous.
        foreach (var byShape in this.parameters.GroupBy(p => string.Join('x', p.shape)))
        {
            segments.Add(new Segment([.. byShape]));
        }

        long total = this.parameters.Sum(p => p.numel());
        using (no_grad())
        {
            flatWeights = Own(empty(total, dtype: dtype, device: device));
            flatGrads = Own(zeros(total, dtype: dtype, device: device));
            long offset = 0;
            long rowOffset = 0;
            foreach (Segment segment in segments)
            {
                segment.Place(offset, rowOffset);
                for (int i = 0; i < segment.Members.Count; i++)
                {
                    Parameter p = segment.Members[i];
                    long n = p.numel();
                    Tensor weights = View(flatWeights, offset, n, p.shape);
                    weights.copy_(p);
                    p.set_(weights); // the parameter now lives in the flat buffer
                    p.grad = View(flatGrads, offset, n, p.shape);
                    slots[p] = new Slot(segment, i, offset);
                    offset += n;
                }

                rowOffset += segment.Members.Count * segment.Rows;
            }

            totalRows = rowOffset;
            flatMasters = Own(flatWeights.to(ScalarType.Float32, copy: true));
            flatExpAvg = Own(zeros(total, dtype: ScalarType.Float32, device: device));
            flatExpAvgSq = Own(zeros(total, dtype: ScalarType.Float32, device: device));
            stepCount = Own(zeros(1, dtype: ScalarType.Float32, device: device));
            foreach (Parameter p in this.parameters)
            {
                var master = new Parameter(View(flatMasters, slots[p].Offset, p.numel(), p.shape), requires_grad: true);
                master.DetachFromDisposeScope();
                masters.Add(master);
                masterOf[p] = master;
            }

            foreach (Segment segment in segments)
            {
                segment.MakeViews(this);
            }
        }

        inner = new RowMaskedAdamW(masters, learningRate, beta1, beta2, epsilon, weightDecay);
        var modelOf = this.parameters.ToDictionary(p => masterOf[p], p => p, ReferenceEqualityComparer.Instance as IEqualityComparer<Parameter>);
        inner.RowStepsStorage = master => RowStepsView(modelOf[master]);
        foreach (Parameter p in this.parameters)
        {
            Parameter master = masterOf[p];
            long n = p.numel();
            inner.AdoptMoments(master, View(flatExpAvg, slots[p].Offset, n, p.shape), View(flatExpAvgSq, slots[p].Offset, n, p.shape), 0);
        }
    }

    public double LearningRate
    {
        get => inner.LearningRate;
        set => inner.LearningRate = value;
    }

    /// <summary>The model's (low-precision) weights, whose gradients clipping and MIGU see.</summary>
    public IReadOnlyList<Parameter> Parameters => parameters;

    /// <summary>The fp32 master copy of a model weight.</summary>
    public Parameter MasterOf(Parameter p) => masterOf[p];

    /// <summary>MIGU's gradient-mode masks, applied while the next step converts the gradients to fp32.</summary>
    public void FoldGradientMasks(RowMaskDictionary masks) => pendingGradientMasks = masks;

    public void Step(IReadOnlyDictionary<Parameter, Tensor>? rowMasks)
    {
        using var noGrad = no_grad();
        RowMaskDictionary? folded = pendingGradientMasks;
        pendingGradientMasks = null;
        PerformanceLevers levers = PerformanceLevers.On(parameters.Count > 0 ? parameters[0].device_type : DeviceType.CPU);
        if (perParameter || (rowMasks is not null && !levers.IndexedUpdateRows))
        {
            StepPerParameter(rowMasks, folded);
            return;
        }

        step++;
        stepCount.fill_(step);
        foreach (Segment segment in segments)
        {
            StepSegment(segment, rowMasks, folded, levers.FusedAdamW);
        }
    }

    /// <summary>Zeroes every gradient in one kernel (they are views of one buffer).</summary>
    public void ZeroGrad() => flatGrads.zero_();

    /// <summary>
    /// Forgets every per-row step count (<see cref="RowMaskedAdamW.ForgetRowSteps"/>): weights that
    /// were row-masked go back to the whole-tensor path. For a benchmark that alternates update
    /// mode with the others on one model.
    /// </summary>
    public void ForgetRowSteps() => inner.ForgetRowSteps();

    public Dictionary<string, Tensor> ExportState(IReadOnlyDictionary<Parameter, string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        SyncSteps();
        var masterNames = parameters.ToDictionary(p => masterOf[p], p => names[p], ReferenceEqualityComparer.Instance as IEqualityComparer<Parameter>);
        Dictionary<string, Tensor> state = inner.ExportState(masterNames);
        foreach (Parameter p in parameters)
        {
            state[names[p] + ".master"] = masterOf[p];
        }

        return state;
    }

    public void ImportState(IReadOnlyDictionary<string, Tensor> state, IReadOnlyDictionary<Parameter, string> names)
    {
        ArgumentNullException.ThrowIfNull(state);
        ArgumentNullException.ThrowIfNull(names);
        var masterNames = parameters.ToDictionary(p => masterOf[p], p => names[p], ReferenceEqualityComparer.Instance as IEqualityComparer<Parameter>);
        inner.ImportState(state, masterNames);
        long steps = inner.StepsOf(masters[0]);
        perParameter = masters.Any(m => inner.StepsOf(m) != steps);
        step = steps;
        using var noGrad = no_grad();
        foreach (Parameter p in parameters)
        {
            if (state.TryGetValue(names[p] + ".master", out Tensor? m))
            {
                masterOf[p].copy_(m);
                p.copy_(m);
            }
        }
    }

    public void Dispose()
    {
        inner.Dispose();
        foreach (Segment segment in segments)
        {
            segment.Dispose();
        }

        foreach (Tensor t in views.Concat(masters))
        {
            t.Dispose();
        }

        foreach (Tensor t in new[] { flatWeights, flatGrads, flatMasters, flatExpAvg, flatExpAvgSq, stepCount })
        {
            t.Dispose();
        }

        flatRowSteps?.Dispose();
    }

    /// <summary>
    /// One segment's step. Weights that are neither row-masked now nor counting steps per row take
    /// the whole-tensor path in chunks of consecutive weights; row-masked ones are gathered together;
    /// weights counting steps per row but not masked now step every row with its own count.
    /// </summary>
    private void StepSegment(Segment segment, IReadOnlyDictionary<Parameter, Tensor>? rowMasks, RowMaskDictionary? folded, bool fused)
    {
        var masked = new List<int>();
        int runStart = -1;
        for (int i = 0; i <= segment.Members.Count; i++)
        {
            bool plain = false;
            if (i < segment.Members.Count)
            {
                Parameter p = segment.Members[i];
                if (rowMasks is not null && rowMasks.ContainsKey(p))
                {
                    masked.Add(i);
                }
                else if (inner.RowStepsOf(masterOf[p]) is not null)
                {
                    StepRowCounted(p, folded);
                }
                else
                {
                    plain = true;
                }
            }

            if (plain && runStart < 0)
            {
                runStart = i;
            }
            else if (!plain && runStart >= 0)
            {
                StepWhole(segment, runStart, i - runStart, folded, fused);
                runStart = -1;
            }
        }

        if (masked.Count > 0)
        {
            StepMaskedRows(segment, masked, rowMasks!);
        }
    }

    /// <summary>AdamW on members [first, first + count) of a segment, whole, chunk by chunk (so the fp32 gradient copy stays small).</summary>
    private void StepWhole(Segment segment, int first, int count, RowMaskDictionary? folded, bool fused)
    {
        using var scope = NewDisposeScope();
        Tensor? masks = folded is null ? null : segment.GradientMasks(first, count, folded); // (count, rows) or null
        long perWeight = segment.Rows * segment.Cols;
        long weightsPerChunk = Math.Max(1, ChunkElements / perWeight);
        long rowsPerChunk = perWeight <= ChunkElements ? segment.Rows : Math.Max(1, ChunkElements / segment.Cols);
        for (long w = 0; w < count; w += weightsPerChunk)
        {
            long weights = Math.Min(weightsPerChunk, count - w);
            for (long r = 0; r < segment.Rows; r += rowsPerChunk)
            {
                using var chunkScope = NewDisposeScope();
                long rows = Math.Min(rowsPerChunk, segment.Rows - r);
                long offset = segment.Offset + ((first + w) * perWeight) + (r * segment.Cols);
                long n = weights * rows * segment.Cols;
                Tensor g = flatGrads.narrow(0, offset, n);
                Tensor g32 = masks is null
                    ? g.to(ScalarType.Float32)
                    : g.view(weights, rows, segment.Cols).mul(masks.narrow(0, w, weights).narrow(1, r, rows).unsqueeze(-1)).view(n); // bf16 × fp32 mask → fp32, one pass
                Tensor master = flatMasters.narrow(0, offset, n);
                Tensor m = flatExpAvg.narrow(0, offset, n);
                Tensor v = flatExpAvgSq.narrow(0, offset, n);
                if (fused)
                {
                    ScriptKernels.FusedAdamW([master], [g32], [m], [v], [stepCount], inner.LearningRate, inner.Beta1, inner.Beta2, inner.WeightDecay, inner.Epsilon);
                }
                else
                {
                    RowMaskedAdamW.WholeStep(master, g32, m, v, step, inner.LearningRate, inner.Settings);
                }

                flatWeights.narrow(0, offset, n).copy_(master);
            }
        }
    }

    /// <summary>A weight that counts steps per row but is not masked this step: every row steps with its own count.</summary>
    private void StepRowCounted(Parameter p, RowMaskDictionary? folded)
    {
        using var scope = NewDisposeScope();
        Tensor grad = folded is not null && folded.TryGetValue(p, out Tensor? mask) ? p.grad!.mul(mask) : p.grad!.to(ScalarType.Float32);
        inner.UpdateWith(masterOf[p], grad, null);
        p.copy_(masterOf[p]);
    }

    /// <summary>
    /// Update mode for the row-masked members of a segment at once: their kept rows, as indices into
    /// the segment's (n·rows, cols) view, gathered, stepped with their per-row counts and scattered
    /// back, and only those rows of the low-precision weights rewritten. The indices come from the
    /// top-k rule without a host synchronisation; otherwise from one <c>nonzero</c> per segment.
    /// </summary>
    private void StepMaskedRows(Segment segment, List<int> masked, IReadOnlyDictionary<Parameter, Tensor> rowMasks)
    {
        using var scope = NewDisposeScope();
        foreach (int i in masked)
        {
            inner.StartRowSteps(masterOf[segment.Members[i]], step - 1); // a weight's first masked step: every row has taken step − 1
        }

        Tensor origins = segment.RowOrigins(masked); // (m, 1) first row of each masked member in the segment view
        Tensor rows;
        if (rowMasks is RowMaskDictionary set && masked.All(i => set.TryGetKeptRows(segment.Members[i], out _)))
        {
            Tensor kept = stack([.. masked.Select(i => set.TryGetKeptRows(segment.Members[i], out Tensor? k) ? k : throw new InvalidOperationException())]); // (m, k)
            rows = kept.add(origins).view(-1);
        }
        else
        {
            // Masks that keep a varying number of rows (the quantile rule): one nonzero for the segment.
            Tensor stacked = stack([.. masked.Select(i => rowMasks[segment.Members[i]].reshape(-1))]); // (m, rows)
            Tensor flat = stacked.reshape(-1).nonzero().reshape(-1); // indices into (m·rows)
            rows = origins.view(-1).index_select(0, flat.div(segment.Rows, rounding_mode: RoundingMode.floor)).add(flat.remainder(segment.Rows));
        }

        Tensor? updated = RowMaskedAdamW.UpdateGathered(
            segment.Masters2D!, segment.Grads2D!, rows, segment.ExpAvg2D!, segment.ExpAvgSq2D!, segment.RowSteps2D(this), inner.LearningRate, inner.Settings);
        if (updated is not null)
        {
            segment.Weights2D!.index_copy_(0, rows, updated.to(flatWeights.dtype));
        }
    }

    /// <summary>
    /// The path this optimizer had before the levers, kept as their "off" position: every weight on
    /// its own, through <see cref="RowMaskedAdamW"/> on its master, row masks by <c>nonzero</c>.
    /// </summary>
    private void StepPerParameter(IReadOnlyDictionary<Parameter, Tensor>? rowMasks, RowMaskDictionary? folded)
    {
        if (!perParameter)
        {
            SyncSteps(step); // each master's own count takes over from the shared one for this step
            step++;
        }

        for (int i = 0; i < parameters.Count; i++)
        {
            Parameter p = parameters[i];
            using var scope = NewDisposeScope();
            if (folded is not null && folded.TryGetValue(p, out Tensor? foldedMask))
            {
                p.grad!.mul_(foldedMask.to(p.grad.dtype));
            }

            Tensor? mask = rowMasks is not null && rowMasks.TryGetValue(p, out Tensor? m) ? m : null;
            inner.UpdateWith(masters[i], p.grad!.to(ScalarType.Float32), mask);
            p.copy_(masters[i]);
        }

        stepCount.fill_(step);
    }

    /// <summary>Hands the shared step count to the per-parameter states (before a checkpoint or a per-parameter step).</summary>
    private void SyncSteps(long? steps = null)
    {
        if (perParameter)
        {
            return;
        }

        foreach (Parameter master in masters)
        {
            inner.AdoptMoments(master, flatExpAvg, flatExpAvgSq, steps ?? step); // the states exist: only their step count changes
        }
    }

    /// <summary>A (rows, 1) view of the shared per-row step counts for model weight <paramref name="p"/>.</summary>
    private Tensor RowStepsView(Parameter p)
    {
        Slot slot = slots[p];
        Tensor view = RowSteps().narrow(0, slot.Segment.RowOffset + (slot.Index * slot.Segment.Rows), slot.Segment.Rows);
        view.DetachFromDisposeScope(); // the optimizer state that asked for it owns it
        return view;
    }

    private Tensor RowSteps()
    {
        if (flatRowSteps is null)
        {
            flatRowSteps = zeros([totalRows, 1], ScalarType.Int64, flatMasters.device);
            flatRowSteps.DetachFromDisposeScope();
        }

        return flatRowSteps;
    }

    private Tensor View(Tensor flat, long offset, long n, long[] shape)
    {
        Tensor view = flat.narrow(0, offset, n).view(shape);
        view.DetachFromDisposeScope();
        views.Add(view);
        return view;
    }

    private static Tensor Own(Tensor t)
    {
        t.DetachFromDisposeScope();
        return t;
    }

    /// <summary>Where a model weight sits: its segment, its place in it, its first element in the flat buffers.</summary>
    private sealed record Slot(Segment Segment, int Index, long Offset);

    /// <summary>Weights of one shape, side by side in every flat buffer: one (n·rows, cols) tensor each.</summary>
    private sealed class Segment(List<Parameter> members) : IDisposable
    {
        private readonly Dictionary<string, Tensor> origins = new(StringComparer.Ordinal);
        private Tensor? ones;
        private Tensor? rowSteps2D;

        public List<Parameter> Members { get; } = members;

        /// <summary>Dimension 0 of the shape (1 for a scalar): the unit MIGU masks.</summary>
        public long Rows { get; } = members[0].shape.Length == 0 ? 1 : members[0].shape[0];

        public long Cols => Members[0].numel() / Rows;

        public long Offset { get; private set; }

        public long RowOffset { get; private set; }

        public Tensor? Weights2D { get; private set; }

        public Tensor? Grads2D { get; private set; }

        public Tensor? Masters2D { get; private set; }

        public Tensor? ExpAvg2D { get; private set; }

        public Tensor? ExpAvgSq2D { get; private set; }

        public void Place(long offset, long rowOffset)
        {
            Offset = offset;
            RowOffset = rowOffset;
        }

        public void MakeViews(MixedPrecisionAdamW owner)
        {
            long n = Members.Count * Rows * Cols;
            long[] shape = [Members.Count * Rows, Cols];
            Weights2D = owner.View(owner.flatWeights, Offset, n, shape);
            Grads2D = owner.View(owner.flatGrads, Offset, n, shape);
            Masters2D = owner.View(owner.flatMasters, Offset, n, shape);
            ExpAvg2D = owner.View(owner.flatExpAvg, Offset, n, shape);
            ExpAvgSq2D = owner.View(owner.flatExpAvgSq, Offset, n, shape);
        }

        /// <summary>(n·rows, 1) per-row step counts of the whole segment.</summary>
        public Tensor RowSteps2D(MixedPrecisionAdamW owner)
        {
            if (rowSteps2D is null)
            {
                rowSteps2D = owner.RowSteps().narrow(0, RowOffset, Members.Count * Rows);
                rowSteps2D.DetachFromDisposeScope();
            }

            return rowSteps2D;
        }

        /// <summary>
        /// (count, rows) fp32 keep-masks of members [first, first + count), ones for weights MIGU does
        /// not mask; null when none of them is masked. One stack of the controller's mask views.
        /// </summary>
        public Tensor? GradientMasks(int first, int count, RowMaskDictionary masks)
        {
            var rows = new List<Tensor>(count);
            bool any = false;
            for (int i = first; i < first + count; i++)
            {
                if (masks.TryGetValue(Members[i], out Tensor? mask))
                {
                    rows.Add(mask.reshape(-1).to(ScalarType.Float32));
                    any = true;
                }
                else
                {
                    if (ones is null)
                    {
                        ones = TorchSharp.torch.ones(Rows, ScalarType.Float32, Members[0].device);
                        ones.DetachFromDisposeScope();
                    }

                    rows.Add(ones);
                }
            }

            return any ? stack(rows) : null;
        }

        /// <summary>(m, 1) int64: where each listed member's rows start in the segment view; made once per set of members, then reused (no host-to-device copy per step).</summary>
        public Tensor RowOrigins(List<int> memberIndices)
        {
            string key = string.Join(',', memberIndices);
            if (!origins.TryGetValue(key, out Tensor? t))
            {
                t = tensor(memberIndices.Select(i => i * Rows).ToArray(), device: Members[0].device).unsqueeze(1);
                t.DetachFromDisposeScope();
                origins[key] = t;
            }

            return t;
        }

        public void Dispose()
        {
            foreach (Tensor t in origins.Values)
            {
                t.Dispose();
            }

            ones?.Dispose();
            rowSteps2D?.Dispose();
        }
    }
}
