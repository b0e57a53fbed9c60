using Migu.Core.Optim;
using Migu.Core.Runtime;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Core;

/// <summary>
/// MIGU for one model: records the selected projections' output magnitudes during a training step's
/// forward passes, and at the step boundary builds masks, masks gradients and hands the optimizer
/// the row masks it must honour. Targets of equal width share one (L, d_out) accumulator and one
/// mask buffer, so mask building is a fixed handful of kernels per width, not a chain per layer.
/// Attach after moving the model to its device. Usage per step: forward/backward inside
/// <see cref="Recording"/> (micro-batches accumulate) → <see cref="MaskStep()"/> → clip →
/// <c>optimizer.Step(masks)</c>. Forward passes outside a recording scope (evaluation, probes)
/// never reach the masks.
/// </summary>
public sealed class MiguController : IDisposable
{
    private readonly List<WidthGroup> groups = [];
    private readonly RowMaskDictionary updateMasks = new();
    private readonly Generator? random;
    private bool recording;
    private bool disposed;

    /// <summary>Where the masks are built, which decides the performance levers' defaults.</summary>
    private DeviceType LeverDevice => groups.Count > 0 ? groups[0].Magnitudes.device_type : DeviceType.CPU;

    /// <summary>Selects the trainable projections of <paramref name="model"/> that <paramref name="options"/> names.</summary>
    public MiguController(nn.Module model, MiguOptions options)
        : this(SelectTargets(model, options), options)
    {
    }

    /// <summary>Uses the given targets (e.g. LoRA A and B weights) as they are.</summary>
    public MiguController(IEnumerable<MaskTarget> targets, MiguOptions options)
    {
        options.Validate();
        Options = options;
        var list = targets.ToList();
        if (list.Count == 0)
        {
            throw new MiguUserException($"MIGU layers '{options.Layers}' select no trainable projection of this model");
        }

        // Top-k and random masks keep a fixed number of rows, so update mode can be handed their indices.
        bool fixedKeep = options.Source == MaskSource.Random || options.Rule == ThresholdRule.TopK;
        foreach (var byWidth in list.GroupBy(t => (t.Rows, t.Weight.device.ToString())).OrderBy(g => g.Key.Rows))
        {
            groups.Add(new WidthGroup(byWidth.ToList(), fixedKeep ? byWidth.Key.Rows - MaskBuilder.MaskedCount(byWidth.Key.Rows, options.Threshold) : null));
        }

        foreach (WidthGroup g in groups)
        {
            for (int i = 0; i < g.Targets.Count; i++)
            {
                updateMasks.Add(g.Targets[i].Weight, g.ColumnMask(i), g.KeptRowsOf(i));
            }
        }

        Targets = list;
        if (options.Source == MaskSource.Random)
        {
            random = new Generator((ulong)options.Seed); // TorchSharp makes CPU generators only; masks are drawn on the CPU and moved
        }

        Active = true;
    }

    public MiguOptions Options { get; }

    /// <summary>The weights MIGU masks, in model order.</summary>
    public IReadOnlyList<MaskTarget> Targets { get; }

    /// <summary>
    /// The (rows, 1) keep-masks by weight, as update mode hands them to the optimizer, with the kept
    /// rows' indices when the rule and the levers give them; valid after <see cref="BuildMasks"/>.
    /// </summary>
    public RowMaskDictionary UpdateMasks => updateMasks;

    /// <summary>Whether masking applies now (false during a skipped first task).</summary>
    public bool Active { get; private set; }

    /// <summary>
    /// Combines the ranks' magnitudes before masks are built, so that with data parallelism every
    /// rank ranks the units by the whole batch and applies the same mask. It gets every width
    /// group's (L, d_out) accumulator at once (one collective for all layers) and must leave the
    /// combined values in place; sum and average give the same masks. Null: one process.
    /// </summary>
    public Action<IReadOnlyList<Tensor>>? MagnitudeReducer { get; set; }

    /// <summary>Called at the start of each task: with SkipFirstTask, task 0 trains unmasked.</summary>
    public void BeginTask(int taskIndex) => SetActive(!(Options.SkipFirstTask && taskIndex == 0));

    /// <summary>Turns masking on or off; resets the accumulators.</summary>
    public void SetActive(bool active)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        Active = active;
        Reset();
    }

    /// <summary>
    /// Records the output magnitudes of the forward passes run until the scope is disposed: those
    /// of one training step (all its micro-batches). Nothing is recorded outside such a scope, so
    /// evaluation between steps leaves the next mask alone. Records nothing while masking is off or
    /// for random masks.
    /// </summary>
    public IDisposable Recording()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (recording || !Active || Options.Source != MaskSource.Magnitude)
        {
            return NoScope.Instance;
        }

        Install(true);
        return new RecordingScope(this);
    }

    /// <summary>
    /// The step boundary, before clipping: builds this step's masks from the magnitudes recorded
    /// since the last step (or at random), zeroes the masked gradient rows, and clears the
    /// magnitudes for the next step. Returns the row masks the optimizer must honour (update mode:
    /// masked rows do not move at all); null in gradient mode or while masking is off.
    /// </summary>
    public IReadOnlyDictionary<Parameter, Tensor>? MaskStep()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (!Active)
        {
            return null;
        }

        BuildMasks();
        MaskGradients();
        Reset();
        return Options.Mode == MiguMode.Update ? updateMasks : null;
    }

    /// <summary>
    /// <see cref="MaskStep()"/> for a caller that reads no gradient between this call and
    /// <paramref name="optimizer"/>'s step (no clipping, no logging of gradients). With the
    /// folded-masks lever on, no pass over the gradients happens here: in gradient mode an optimizer
    /// that can (<see cref="IGradientMaskFolding"/>) applies the masks while it reads the gradients;
    /// in update mode nothing needs them, since the optimizer never touches a masked row. Without
    /// the lever, or with an optimizer that cannot fold, this is <see cref="MaskStep()"/>.
    /// </summary>
    public IReadOnlyDictionary<Parameter, Tensor>? MaskStep(IRowMaskedOptimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        ObjectDisposedException.ThrowIf(disposed, this);
        bool update = Options.Mode == MiguMode.Update;
        if (!Active || !PerformanceLevers.On(LeverDevice).FoldedGradientMasks || !(update || optimizer is IGradientMaskFolding))
        {
            return MaskStep();
        }

        BuildMasks();
        if (!update)
        {
            ((IGradientMaskFolding)optimizer).FoldGradientMasks(updateMasks);
        }

        Reset();
        return update ? updateMasks : null;
    }

    /// <summary>A whole masked step without clipping: <see cref="MaskStep(IRowMaskedOptimizer)"/>, then the optimizer.</summary>
    public void Step(IRowMaskedOptimizer optimizer)
    {
        ArgumentNullException.ThrowIfNull(optimizer);
        optimizer.Step(MaskStep(optimizer));
    }

    /// <summary>
    /// Fills the mask buffers from the accumulators (or at random); 1 = the row may change. In update
    /// mode with the indexed-rows lever, the kept rows' indices are filled too (top-k and random rules).
    /// </summary>
    public void BuildMasks()
    {
        using var noGrad = no_grad();
        if (Options.Source == MaskSource.Magnitude)
        {
            MagnitudeReducer?.Invoke([.. groups.Select(g => g.Magnitudes)]);
        }

        bool withRows = Options.Mode == MiguMode.Update && PerformanceLevers.On(LeverDevice).IndexedUpdateRows && groups.All(g => g.KeptRows is not null);
        foreach (WidthGroup g in groups)
        {
            using var scope = NewDisposeScope();
            long layers = g.Magnitudes.shape[0];
            long width = g.Magnitudes.shape[1];
            if (withRows)
            {
                var (mask, rows) = Options.Source == MaskSource.Random
                    ? MaskBuilder.RandomWithRows(layers, width, Options.Threshold, random!, g.Magnitudes.device)
                    : MaskBuilder.TopKWithRows(g.Magnitudes, Options.Threshold);
                g.Masks.copy_(mask);
                g.KeptRows!.copy_(rows);
                continue;
            }

            Tensor built = Options.Source == MaskSource.Random
                ? MaskBuilder.Random(layers, width, Options.Threshold, random!, g.Magnitudes.device)
                : Options.Rule == ThresholdRule.TopK
                    ? MaskBuilder.TopK(g.Magnitudes, Options.Threshold)
                    : MaskBuilder.Quantile(g.Magnitudes, Options.Threshold);
            g.Masks.copy_(built);
        }

        updateMasks.HasKeptRows = withRows;
    }

    /// <summary>
    /// The random masks' generator state (its bytes), or null for magnitude masks, which keep no state
    /// between steps. A mid-task checkpoint saves it and <see cref="ImportRandomState"/> restores it,
    /// so a resumed task draws the masks the uninterrupted one would have drawn.
    /// </summary>
    public byte[]? ExportRandomState()
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        if (random is null)
        {
            return null;
        }

        using Tensor state = random.get_state();
        return state.data<byte>().ToArray();
    }

    /// <summary>Restores a state <see cref="ExportRandomState"/> gave (of a controller with random masks).</summary>
    public void ImportRandomState(byte[] state)
    {
        ArgumentNullException.ThrowIfNull(state);
        ObjectDisposedException.ThrowIf(disposed, this);
        if (random is null)
        {
            throw new InvalidOperationException("only random masks have a generator state");
        }

        using Tensor bytes = tensor(state, ScalarType.Byte);
        random.set_state(bytes);
    }

    /// <summary>Multiplies each target's gradient rows by its mask (the paper's gradient masking).</summary>
    public void MaskGradients()
    {
        using var noGrad = no_grad();
        foreach (WidthGroup g in groups)
        {
            for (int i = 0; i < g.Targets.Count; i++)
            {
                Tensor? grad = g.Targets[i].Weight.grad;
                if (grad is not null)
                {
                    using var scope = NewDisposeScope();
                    Tensor mask = g.ColumnMask(i);
                    grad.mul_(grad.dtype == mask.dtype ? mask : mask.to(grad.dtype));
                }
            }
        }
    }

    /// <summary>The current keep-mask of a target's rows, (rows); valid after <see cref="BuildMasks"/>.</summary>
    public Tensor MaskOf(MaskTarget target) => FindRow(target, (g, i) => g.Masks[i]);

    /// <summary>The magnitudes accumulated for a target since the last reset, (rows).</summary>
    public Tensor MagnitudesOf(MaskTarget target) => FindRow(target, (g, i) => g.Magnitudes[i]);

    /// <summary>Zeroes the accumulators; <see cref="MaskStep()"/> does it after building each step's masks.</summary>
    public void Reset()
    {
        using var noGrad = no_grad();
        foreach (WidthGroup g in groups)
        {
            g.Magnitudes.zero_();
        }
    }

    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        Install(false);
        foreach (WidthGroup g in groups)
        {
            g.Dispose();
        }

        random?.Dispose();
        disposed = true;
    }

    /// <summary>Every trainable projection of <paramref name="model"/> that the options' layer selection names.</summary>
    public static IEnumerable<MaskTarget> SelectTargets(nn.Module model, MiguOptions options)
    {
        LayerSelection selection = LayerSelection.Parse(options.Layers);
        foreach (var (name, module) in model.named_modules())
        {
            if (module is Projection p && p.Weight.requires_grad && selection.Matches(name, p.Kind))
            {
                yield return MaskTarget.For(name, p);
            }
        }

        if (model is Projection self && self.Weight.requires_grad && selection.Matches(string.Empty, self.Kind))
        {
            yield return MaskTarget.For(string.Empty, self);
        }
    }

    private void Install(bool record)
    {
        foreach (WidthGroup g in groups)
        {
            g.Install(record);
        }

        recording = record;
    }

    private Tensor FindRow(MaskTarget target, Func<WidthGroup, int, Tensor> pick)
    {
        foreach (WidthGroup g in groups)
        {
            int i = g.Targets.IndexOf(target);
            if (i >= 0)
            {
                return pick(g, i);
            }
        }

        throw new ArgumentException($"{target.Name} is not a target of this controller", nameof(target));
    }

    /// <summary>Ends a <see cref="Recording"/> scope: the projections stop recording.</summary>
    private sealed class RecordingScope(MiguController owner) : IDisposable
    {
        private bool ended;

        public void Dispose()
        {
            if (!ended && !owner.disposed)
            {
                owner.Install(false);
            }

            ended = true;
        }
    }

    private sealed class NoScope : IDisposable
    {
        public static NoScope Instance { get; } = new();

        public void Dispose()
        {
        }
    }

    /// <summary>Targets of one width and device: their stacked accumulators and masks.</summary>
    private sealed class WidthGroup : IDisposable
    {
        private readonly Tensor[] rows;
        private readonly Tensor[] columnMasks;
        private readonly Tensor[]? keptRowViews;

        /// <param name="targets">Weights of one width on one device.</param>
        /// <param name="keep">Rows each mask keeps, when the rule fixes it (then kept-row indices get a buffer).</param>
        public WidthGroup(List<MaskTarget> targets, long? keep)
        {
            Targets = targets;
            long width = targets[0].Rows;
            Device device = targets[0].Weight.device;
            Magnitudes = zeros([targets.Count, width], ScalarType.Float32, device); // (L, d_out)
            Masks = ones([targets.Count, width], ScalarType.Float32, device); // (L, d_out)
            rows = new Tensor[targets.Count];
            columnMasks = new Tensor[targets.Count];
            for (int i = 0; i < targets.Count; i++)
            {
                rows[i] = Magnitudes[i]; // a view: recording writes straight into the stack
                columnMasks[i] = Masks[i].unsqueeze(1); // (d_out, 1) view, broadcast over columns
            }

            if (keep is long k)
            {
                KeptRows = zeros([targets.Count, k], ScalarType.Int64, device); // (L, k)
                keptRowViews = [.. Enumerable.Range(0, targets.Count).Select(i => KeptRows[i])];
            }

            // Owned here, not by whatever dispose scope the caller happens to be in.
            Magnitudes.DetachFromDisposeScope();
            Masks.DetachFromDisposeScope();
            KeptRows?.DetachFromDisposeScope();
            foreach (Tensor t in rows.Concat(columnMasks).Concat(keptRowViews ?? []))
            {
                t.DetachFromDisposeScope();
            }
        }

        public List<MaskTarget> Targets { get; }

        public Tensor Magnitudes { get; }

        public Tensor Masks { get; }

        /// <summary>(L, k) int64 indices of each target's kept rows, ascending; null when the rule does not fix k.</summary>
        public Tensor? KeptRows { get; }

        public Tensor ColumnMask(int i) => columnMasks[i];

        public Tensor? KeptRowsOf(int i) => keptRowViews?[i];

        public void Install(bool record)
        {
            for (int i = 0; i < Targets.Count; i++)
            {
                Targets[i].Install(record ? rows[i] : null);
            }
        }

        public void Dispose()
        {
            foreach (Tensor t in rows.Concat(columnMasks).Concat(keptRowViews ?? []))
            {
                t.Dispose();
            }

            Magnitudes.Dispose();
            Masks.Dispose();
            KeptRows?.Dispose();
        }
    }
}

/// <summary>
/// One weight whose output rows MIGU masks, with the way to hand it a magnitude accumulator.
/// A projection gives one (its weight, by its own outputs); a LoRA layer gives two (A by x·A, B by
/// the whole layer output).
/// </summary>
/// <param name="Name">Parameter name, e.g. <c>encoder.block.0.layer.0.SelfAttention.q.weight</c>.</param>
/// <param name="Weight">The weight; dimension 0 is the output unit.</param>
/// <param name="Install">Points the recorder at an fp32 (rows) accumulator, or detaches it with null.</param>
public sealed record MaskTarget(string Name, Parameter Weight, Action<Tensor?> Install)
{
    public long Rows => Weight.shape[0];

    /// <summary>The target for a projection's own weight.</summary>
    public static MaskTarget For(string moduleName, Projection projection) =>
        new(moduleName.Length == 0 ? "weight" : moduleName + ".weight", projection.Weight, acc => projection.MagnitudeAccumulator = acc);
}
