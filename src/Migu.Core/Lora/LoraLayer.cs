using static TorchSharp.torch;

namespace Migu.Core.Lora;

/// <summary>
/// The LoRA adapters of one projection, kept by name (several may be active at once and are summed,
/// which is IncLoRA). The projection calls <see cref="AddTo"/> after its base linear:
/// x_O = x·Wᵀ + b + Σ_active s·(dropout(x)·Aᵀ)·Bᵀ. Changed only through <see cref="LoraAdapters"/>,
/// which keeps every layer of a model in the same state.
/// </summary>
public sealed class LoraLayer : IDisposable
{
    private readonly List<LoraAdapter> adapters = [];
    private LoraAdapter[] active = [];

    internal LoraLayer(string moduleName, Projection projection)
    {
        ModuleName = moduleName;
        Projection = projection;
    }

    /// <summary>The projection's module name in its model, e.g. <c>model.layers.0.self_attn.q_proj</c>.</summary>
    public string ModuleName { get; }

    public Projection Projection { get; }

    /// <summary>Every adapter of this layer, in the order they were added.</summary>
    public IReadOnlyList<LoraAdapter> Adapters => adapters;

    /// <summary>The adapters forward adds, in the order they were added (merged ones are in W instead).</summary>
    public IReadOnlyList<LoraAdapter> Active => active;

    /// <summary>The adapter named <paramref name="name"/>.</summary>
    public LoraAdapter this[string name] =>
        adapters.Find(a => a.Name == name) ?? throw new MiguUserException($"LoRA: '{ModuleName}' has no adapter '{name}'");

    /// <summary>Adds Σ over active, unmerged adapters of s·(dropout(x)·Aᵀ)·Bᵀ into <paramref name="output"/> (…, d_out) and returns it.</summary>
    internal Tensor AddTo(Tensor input, Tensor output, bool training)
    {
        if (active.Length == 0)
        {
            return output;
        }

        using var scope = NewDisposeScope();
        foreach (LoraAdapter adapter in active)
        {
            if (!adapter.Merged)
            {
                // In place: linear saves its input and weight for backward, never its output, so this
                // is safe for autograd and spares an (N, d_out) buffer.
                adapter.AddTo(input, output, training);
            }
        }

        return output;
    }

    internal void Add(LoraAdapter adapter) => adapters.Add(adapter);

    internal void Remove(string name)
    {
        LoraAdapter adapter = this[name];
        if (adapter.Merged)
        {
            Unmerge(adapter);
        }

        adapters.Remove(adapter);
        active = active.Where(a => a != adapter).ToArray();
        adapter.Dispose();
    }

    /// <summary>Makes exactly the named adapters active, in the order they were added.</summary>
    internal void SetActive(IReadOnlySet<string> names) => active = adapters.Where(a => names.Contains(a.Name)).ToArray();

    /// <summary>W += s·B·A, computed in fp32 (fp64 for fp64 weights) and rounded once to W's dtype.</summary>
    internal void Merge(LoraAdapter adapter)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Projection.Weight.add_(WideDelta(adapter).to(Projection.Weight.dtype));
        adapter.Merged = true;
    }

    /// <summary>W −= s·B·A: W as before the merge, up to the rounding of one add and one subtract.</summary>
    internal void Unmerge(LoraAdapter adapter)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Projection.Weight.sub_(WideDelta(adapter).to(Projection.Weight.dtype));
        adapter.Merged = false;
    }

    public void Dispose()
    {
        foreach (LoraAdapter adapter in adapters)
        {
            adapter.Dispose();
        }

        adapters.Clear();
        active = [];
    }

    private Tensor WideDelta(LoraAdapter adapter)
    {
        ScalarType wide = Projection.Weight.dtype == ScalarType.Float64 ? ScalarType.Float64 : ScalarType.Float32;
        return adapter.B.to(wide).matmul(adapter.A.to(wide)).mul_(adapter.Scaling); // (d_out, d_in)
    }
}
