using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Core.Optim;

/// <summary>
/// AdamW for a model whose weights are bf16 (or fp16): each trainable weight has an fp32 master
/// copy that AdamW updates (with MIGU's row masks, in either mode), and the weight takes the
/// rounded result. Forward and backward run in low precision with no per-step casts of the
/// weights; small updates are not lost to bf16 rounding because they accumulate in fp32. A row
/// frozen by an update-mode mask keeps its master value, so its low-precision copy stays
/// bit-identical too.
/// </summary>
public sealed class MixedPrecisionAdamW : IStatefulOptimizer
{
    private readonly List<Parameter> parameters;
    private readonly List<Parameter> masters;
    private readonly Dictionary<Parameter, Parameter> masterOf = new(ReferenceEqualityComparer.Instance);
    private readonly RowMaskedAdamW inner;

    public MixedPrecisionAdamW(IEnumerable<Parameter> parameters, double learningRate = 1e-3, double beta1 = 0.9, double beta2 = 0.999, double epsilon = 1e-8, double weightDecay = 0.01)
    {
        this.parameters = parameters.Where(p => p.requires_grad).ToList();
        masters = [];
        using (no_grad())
        {
            foreach (Parameter p in this.parameters)
            {
                var master = new Parameter(p.detach().to(ScalarType.Float32, copy: true), requires_grad: true);
                master.DetachFromDisposeScope();
                masters.Add(master);
                masterOf[p] = master;
            }
        }

        inner = new RowMaskedAdamW(masters, learningRate, beta1, beta2, epsilon, weightDecay);
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
        for (int i = 0; i < parameters.Count; i++)
        {
            Parameter p = parameters[i];
            if (p.grad is not Tensor g)
            {
                continue;
            }

            // One weight at a time: its fp32 gradient lives only for its own update, so the masters
            // never need a second full-size gradient buffer.
            using var scope = NewDisposeScope();
            Tensor? mask = rowMasks is not null && rowMasks.TryGetValue(p, out Tensor? m) ? m : null;
            inner.UpdateWith(masters[i], g.to(ScalarType.Float32), mask);
            p.copy_(masters[i]);
        }
    }

    public void ZeroGrad()
    {
        foreach (Parameter p in parameters)
        {
            p.grad?.zero_();
        }
    }

    public Dictionary<string, Tensor> ExportState(IReadOnlyDictionary<Parameter, string> names)
    {
        ArgumentNullException.ThrowIfNull(names);
        var masterNames = parameters.ToDictionary(p => (Parameter)masterOf[p], p => names[p], ReferenceEqualityComparer.Instance as IEqualityComparer<Parameter>);
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
        var masterNames = parameters.ToDictionary(p => (Parameter)masterOf[p], p => names[p], ReferenceEqualityComparer.Instance as IEqualityComparer<Parameter>);
        inner.ImportState(state, masterNames);
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
        foreach (Parameter m in masters)
        {
            m.Dispose();
        }
    }
}
