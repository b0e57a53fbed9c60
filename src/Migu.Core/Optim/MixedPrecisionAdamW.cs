using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Core.Optim;

/// <summary>
/// AdamW for a model whose weights are bf16 (or fp16), built for GPU speed. The trainable weights
/// are moved into one flat low-precision buffer (each parameter becomes a view of it) and their
/// gradients into another (autograd accumulates into the views in place); fp32 master weights and
/// both moments are flat buffers too. A step is then a fixed handful of kernels per 64M-element
/// chunk, whatever the number of parameters, instead of ~10 kernels per parameter — the difference
/// between a launch-bound and a bandwidth-bound optimizer on models with hundreds of tensors.
/// The arithmetic is torch.optim.AdamW's, term for term, on the fp32 masters; each weight takes
/// its master's rounding. MIGU's gradient mode needs nothing more (masked gradient rows are already
/// zero). The first step with update-mode row masks switches for good to a per-parameter path over
/// the same buffers (<see cref="RowMaskedAdamW"/> with per-row step counts), so masked rows of the
/// weights, masters and moments stay bit-identical.
/// </summary>
public sealed class MixedPrecisionAdamW : IStatefulOptimizer
{
    private const long ChunkElements = 1L << 26;
    private readonly List<Parameter> parameters;
    private readonly List<Parameter> masters = [];
    private readonly Dictionary<Parameter, Parameter> masterOf = new(ReferenceEqualityComparer.Instance);
    private readonly Tensor flatWeights; // (N) low precision: the model's weights
    private readonly Tensor flatGrads; // (N) low precision: their gradients
    private readonly Tensor flatMasters; // (N) fp32
    private readonly Tensor flatExpAvg; // (N) fp32
    private readonly Tensor flatExpAvgSq; // (N) fp32
    private readonly List<Tensor> views = [];
    private readonly RowMaskedAdamW inner;
    private long step;
    private bool perParameter;

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

        long total = this.parameters.Sum(p => p.numel());
        using (no_grad())
        {
            flatWeights = Own(empty(total, dtype: dtype, device: device));
            flatGrads = Own(zeros(total, dtype: dtype, device: device));
            long offset = 0;
            foreach (Parameter p in this.parameters)
            {
                long n = p.numel();
                long[] shape = p.shape;
                Tensor weights = View(flatWeights, offset, n, shape);
                weights.copy_(p);
                p.set_(weights); // the parameter now lives in the flat buffer
                p.grad = View(flatGrads, offset, n, shape);
                offset += n;
            }

            flatMasters = Own(flatWeights.to(ScalarType.Float32, copy: true));
            flatExpAvg = Own(zeros(total, dtype: ScalarType.Float32, device: device));
            flatExpAvgSq = Own(zeros(total, dtype: ScalarType.Float32, device: device));
            offset = 0;
            foreach (Parameter p in this.parameters)
            {
                var master = new Parameter(View(flatMasters, offset, p.numel(), p.shape), requires_grad: true);
                master.DetachFromDisposeScope();
                masters.Add(master);
                masterOf[p] = master;
                offset += p.numel();
            }
        }

        inner = new RowMaskedAdamW(masters, learningRate, beta1, beta2, epsilon, weightDecay);
        long at = 0;
        foreach (Parameter master in masters)
        {
            long n = master.numel();
            inner.AdoptMoments(master, View(flatExpAvg, at, n, master.shape), View(flatExpAvgSq, at, n, master.shape), 0);
            at += n;
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

    public void Step(IReadOnlyDictionary<Parameter, Tensor>? rowMasks)
    {
        using var noGrad = no_grad();
        if (rowMasks is null && !perParameter)
        {
            StepFlat();
            return;
        }

        SwitchToPerParameter();
        for (int i = 0; i < parameters.Count; i++)
        {
            Parameter p = parameters[i];
            using var scope = NewDisposeScope();
            Tensor? mask = rowMasks is not null && rowMasks.TryGetValue(p, out Tensor? m) ? m : null;
            inner.UpdateWith(masters[i], p.grad!.to(ScalarType.Float32), mask);
            p.copy_(masters[i]);
        }
    }

    /// <summary>Zeroes every gradient in one kernel (they are views of one buffer).</summary>
    public void ZeroGrad() => flatGrads.zero_();

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
        perParameter = state.Keys.Any(k => k.EndsWith(".row_steps", StringComparison.Ordinal))
            || masters.Any(m => inner.StepsOf(m) != steps);
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
        foreach (Tensor t in views.Concat(masters))
        {
            t.Dispose();
        }

        foreach (Tensor t in new[] { flatWeights, flatGrads, flatMasters, flatExpAvg, flatExpAvgSq })
        {
            t.Dispose();
        }
    }

    /// <summary>torch.optim.AdamW's update over the flat buffers, chunk by chunk (so the fp32 gradient copy stays small).</summary>
    private void StepFlat()
    {
        step++;
        double lr = inner.LearningRate;
        double bias1 = 1 - Math.Pow(inner.Beta1, step);
        double bias2Sqrt = Math.Sqrt(1 - Math.Pow(inner.Beta2, step));
        long total = flatMasters.shape[0];
        for (long offset = 0; offset < total; offset += ChunkElements)
        {
            using var scope = NewDisposeScope();
            long n = Math.Min(ChunkElements, total - offset);
            Tensor g = flatGrads.narrow(0, offset, n).to(ScalarType.Float32);
            Tensor w = flatMasters.narrow(0, offset, n);
            Tensor m = flatExpAvg.narrow(0, offset, n);
            Tensor v = flatExpAvgSq.narrow(0, offset, n);
            w.mul_(1 - (lr * inner.WeightDecay));
            m.lerp_(g, 1 - inner.Beta1);
            v.mul_(inner.Beta2).addcmul_(g, g, 1 - inner.Beta2);
            Tensor denom = v.sqrt().div_(bias2Sqrt).add_(inner.Epsilon);
            w.addcdiv_(m, denom, -lr / bias1);
            flatWeights.narrow(0, offset, n).copy_(w);
        }
    }

    /// <summary>Hands the flat path's step count to the per-parameter states (before a checkpoint or a switch).</summary>
    private void SyncSteps()
    {
        if (perParameter)
        {
            return;
        }

        foreach (Parameter master in masters)
        {
            inner.AdoptMoments(master, flatExpAvg, flatExpAvgSq, step); // the states exist: only their step count changes
        }
    }

    private void SwitchToPerParameter()
    {
        SyncSteps();
        perParameter = true;
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
}
