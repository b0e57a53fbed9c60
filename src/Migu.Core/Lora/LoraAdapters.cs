using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Core.Lora;

/// <summary>
/// LoRA on one model: the layers it is attached to, the adapters by name, which are active (summed
/// in forward) and which one trains. Attach after moving the model to its device and dtype; the
/// adapters live beside each projection's weight. Disposing detaches: the projections are unhooked,
/// merged adapters are taken out of W and every parameter's requires_grad is restored.
/// Adapter parameters are not model parameters: hand <see cref="Parameters"/> to the optimizer, and
/// save them with the PEFT adapter files, not with the model checkpoint.
/// </summary>
public sealed class LoraAdapters : IDisposable
{
    private readonly List<LoraLayer> layers;
    private readonly List<(Parameter Parameter, bool RequiredGrad)> frozen;
    private readonly Dictionary<string, LoraAdapterConfig> configs = new(StringComparer.Ordinal);
    private readonly List<string> names = [];
    private readonly HashSet<string> active = new(StringComparer.Ordinal);
    private bool detached;

    private LoraAdapters(nn.Module model, LoraOptions options, List<LoraLayer> layers, List<(Parameter, bool)> frozen)
    {
        Model = model;
        Options = options;
        this.layers = layers;
        this.frozen = frozen;
    }

    /// <summary>The model LoRA is attached to (not owned).</summary>
    public nn.Module Model { get; }

    public LoraOptions Options { get; }

    /// <summary>One per wrapped projection, in model order.</summary>
    public IReadOnlyList<LoraLayer> Layers => layers;

    /// <summary>Every adapter's name, in the order they were added.</summary>
    public IReadOnlyList<string> AdapterNames => names;

    /// <summary>The active adapters, in the order they were added.</summary>
    public IReadOnlyList<string> ActiveAdapters => names.Where(active.Contains).ToList();

    /// <summary>The adapter whose A and B require gradients, or null when none trains.</summary>
    public string? TrainableAdapter { get; private set; }

    /// <summary>Attaches LoRA to every trainable projection that <see cref="LoraOptions.Targets"/> selects.</summary>
    public static LoraAdapters Attach(nn.Module model, LoraOptions options)
    {
        options.Validate();
        return Attach(model, LayerSelection.Parse(options.Targets, "LoRA targets"), options);
    }

    /// <summary>
    /// Attaches LoRA to every trainable projection that <paramref name="targets"/> selects (e.g.
    /// <see cref="LayerSelection.Named"/> for the modules of an adapter file); <paramref name="options"/>'
    /// own Targets are not used. Refuses a selection of nothing, a projection that already has LoRA,
    /// and a projection that is recording MIGU magnitudes for its own weight.
    /// </summary>
    public static LoraAdapters Attach(nn.Module model, LayerSelection targets, LoraOptions options)
    {
        options.Adapter.Validate();
        var selected = SelectProjections(model, targets);
        if (selected.Count == 0)
        {
            throw new MiguUserException($"LoRA targets '{targets}' select no trainable projection of this model");
        }

        foreach (var (name, p) in selected)
        {
            if (p.Lora is not null)
            {
                throw new MiguUserException($"LoRA: '{name}' already has LoRA attached; dispose that attachment first");
            }

            if (p.MagnitudeAccumulator is not null)
            {
                throw new MiguUserException($"LoRA: '{name}' is recording MIGU magnitudes for its own weight; dispose that MIGU controller before attaching LoRA");
            }
        }

        var frozen = Freeze(options.FreezeModel ? model.parameters() : selected.SelectMany(s => OwnParameters(s.Projection)));
        var layers = new List<LoraLayer>(selected.Count);
        foreach (var (name, p) in selected)
        {
            var layer = new LoraLayer(name, p);
            p.Lora = layer;
            layers.Add(layer);
        }

        return new LoraAdapters(model, options, layers, frozen);
    }

    /// <summary>The layer of the projection named <paramref name="moduleName"/>.</summary>
    public LoraLayer Layer(string moduleName) =>
        layers.Find(l => l.ModuleName == moduleName) ?? throw new MiguUserException($"LoRA is not attached to '{moduleName}'");

    /// <summary>The settings adapter <paramref name="name"/> was added with.</summary>
    public LoraAdapterConfig Config(string name)
    {
        Require(name);
        return configs[name];
    }

    /// <summary>
    /// Adds adapter <paramref name="name"/> to every layer (A drawn from a CPU generator seeded with
    /// <paramref name="seed"/>, B zeros), makes it active and the trainable one (the previous
    /// trainable adapter is frozen and stays active): the IncLoRA step. <paramref name="config"/>
    /// defaults to the options' adapter settings.
    /// </summary>
    public void AddAdapter(string name, long seed, LoraAdapterConfig? config = null)
    {
        using var generator = new Generator(unchecked((ulong)seed), new Device(DeviceType.CPU));
        AddAdapter(name, generator, config);
    }

    /// <summary>As <see cref="AddAdapter(string, long, LoraAdapterConfig?)"/>, drawing A from <paramref name="generator"/> (a CPU generator), layer by layer in model order.</summary>
    public void AddAdapter(string name, Generator generator, LoraAdapterConfig? config = null)
    {
        ThrowIfDetached();
        if (string.IsNullOrWhiteSpace(name) || name.Contains('.', StringComparison.Ordinal))
        {
            throw new MiguUserException($"LoRA adapter name '{name}' must be non-empty and contain no '.' (it becomes part of parameter names)");
        }

        if (configs.ContainsKey(name))
        {
            throw new MiguUserException($"LoRA adapter '{name}' already exists");
        }

        config ??= Options.Adapter;
        config.Validate();
        int added = 0;
        try
        {
            foreach (LoraLayer layer in layers)
            {
                layer.Add(new LoraAdapter(name, layer.ModuleName, config, layer.Projection, generator));
                added++;
            }
        }
        catch
        {
            foreach (LoraLayer layer in layers.Take(added))
            {
                layer.Remove(name);
            }

            throw;
        }

        configs[name] = config;
        names.Add(name);
        active.Add(name);
        PushActive();
        SetTrainable(name);
    }

    /// <summary>Removes adapter <paramref name="name"/> (taking it out of W first if merged) and disposes its tensors.</summary>
    public void RemoveAdapter(string name)
    {
        Require(name);
        foreach (LoraLayer layer in layers)
        {
            layer.Remove(name);
        }

        if (TrainableAdapter == name)
        {
            TrainableAdapter = null;
        }

        configs.Remove(name);
        names.Remove(name);
        active.Remove(name);
    }

    /// <summary>
    /// Makes adapter <paramref name="name"/> the only one whose A and B require gradients (null:
    /// none). It must be active and not merged, or it would get no gradient.
    /// </summary>
    public void SetTrainable(string? name)
    {
        if (name is not null)
        {
            Require(name);
            if (!active.Contains(name))
            {
                throw new MiguUserException($"LoRA adapter '{name}' is not active; activate it before training it");
            }

            if (IsMerged(name))
            {
                throw new MiguUserException($"LoRA adapter '{name}' is merged into the weights; unmerge it before training it");
            }
        }

        foreach (LoraLayer layer in layers)
        {
            foreach (LoraAdapter adapter in layer.Adapters)
            {
                bool train = adapter.Name == name;
                adapter.A.requires_grad = train;
                adapter.B.requires_grad = train;
            }
        }

        TrainableAdapter = name;
    }

    /// <summary>Makes exactly <paramref name="adapterNames"/> active (summed in forward). The trainable adapter must stay active.</summary>
    public void SetActive(IEnumerable<string> adapterNames)
    {
        var set = new HashSet<string>(StringComparer.Ordinal);
        foreach (string name in adapterNames)
        {
            Require(name);
            set.Add(name);
        }

        if (TrainableAdapter is not null && !set.Contains(TrainableAdapter))
        {
            throw new MiguUserException($"LoRA adapter '{TrainableAdapter}' is trainable; make another adapter trainable (or none) before deactivating it");
        }

        active.Clear();
        active.UnionWith(set);
        PushActive();
    }

    /// <summary>A and B of adapter <paramref name="name"/>, layer by layer in model order: what its optimizer updates.</summary>
    public IEnumerable<Parameter> Parameters(string name) => Weights(name).SelectMany(w => new[] { w.A, w.B });

    /// <summary>
    /// A and B of adapter <paramref name="name"/> under PEFT's in-memory names,
    /// <c>{module}.lora_A.{name}.weight</c> and <c>{module}.lora_B.{name}.weight</c>.
    /// </summary>
    public IEnumerable<(string Name, Parameter Parameter)> NamedParameters(string name)
    {
        foreach (var (module, a, b) in Weights(name))
        {
            yield return (ParameterName(module, "lora_A", name), a);
            yield return (ParameterName(module, "lora_B", name), b);
        }
    }

    /// <summary>Per layer, in model order: the module name, A (r × d_in) and B (d_out × r) of adapter <paramref name="name"/> (O-LoRA pairs A's across adapters layer by layer).</summary>
    public IReadOnlyList<(string Module, Parameter A, Parameter B)> Weights(string name)
    {
        Require(name);
        return layers.Select(l => (l.ModuleName, l[name].A, l[name].B)).ToList();
    }

    /// <summary>Whether adapter <paramref name="name"/> is merged into the weights.</summary>
    public bool IsMerged(string name)
    {
        Require(name);
        return layers[0][name].Merged;
    }

    /// <summary>
    /// Adds s·B·A of adapter <paramref name="name"/> into each wrapped weight; forward then skips the
    /// adapter (active or not, it is part of W until <see cref="Unmerge"/>). The trainable adapter
    /// cannot be merged (it would get no gradient), nor an adapter on a weight that the model shares
    /// with another module (a tied head: the embedding would change as well).
    /// </summary>
    public void Merge(string name)
    {
        Require(name);
        if (IsMerged(name))
        {
            throw new MiguUserException($"LoRA adapter '{name}' is already merged");
        }

        if (TrainableAdapter == name)
        {
            throw new MiguUserException($"LoRA adapter '{name}' is trainable; make another adapter trainable (or none) before merging it");
        }

        foreach (LoraLayer layer in layers)
        {
            string own = layer.ModuleName.Length == 0 ? "weight" : layer.ModuleName + ".weight";
            string? listedAs = Model.named_parameters().FirstOrDefault(p => ReferenceEquals(p.parameter, layer.Projection.Weight)).name;
            if (listedAs is not null && listedAs != own)
            {
                // A tied head: adding ΔW would change the embedding that shares the tensor, too.
                throw new MiguUserException($"LoRA: '{layer.ModuleName}' shares its weight with '{listedAs}'; merging would change both, so it is refused");
            }
        }

        foreach (LoraLayer layer in layers)
        {
            layer.Merge(layer[name]);
        }
    }

    /// <summary>Subtracts s·B·A of adapter <paramref name="name"/> from each wrapped weight again.</summary>
    public void Unmerge(string name)
    {
        Require(name);
        if (!IsMerged(name))
        {
            throw new MiguUserException($"LoRA adapter '{name}' is not merged");
        }

        foreach (LoraLayer layer in layers)
        {
            layer.Unmerge(layer[name]);
        }
    }

    /// <summary>
    /// MIGU's targets for adapter <paramref name="name"/>, two per layer: A, ranked by the magnitudes
    /// of its outputs x·Aᵀ (r units), and B, ranked by the whole layer output x_O (d_out units,
    /// recorded by the projection itself, LoRA included). For <see cref="MiguController(IEnumerable{MaskTarget}, MiguOptions)"/>.
    /// </summary>
    public IEnumerable<MaskTarget> MiguTargets(string name)
    {
        Require(name);
        if (TrainableAdapter != name)
        {
            throw new MiguUserException($"MIGU masks the trainable LoRA adapter; '{name}' is frozen");
        }

        var targets = new List<MaskTarget>(2 * layers.Count);
        foreach (LoraLayer layer in layers)
        {
            LoraAdapter adapter = layer[name];
            Projection projection = layer.Projection;
            targets.Add(new MaskTarget(ParameterName(layer.ModuleName, "lora_A", name), adapter.A, acc => adapter.MagnitudeAccumulator = acc));
            targets.Add(new MaskTarget(ParameterName(layer.ModuleName, "lora_B", name), adapter.B, acc => projection.MagnitudeAccumulator = acc));
        }

        return targets;
    }

    /// <summary>
    /// Unhooks every projection, disposes the adapters and restores each parameter's requires_grad.
    /// Merged adapters are taken out of W first unless <paramref name="keepMerged"/> (to keep a merged model).
    /// </summary>
    public void Detach(bool keepMerged = false)
    {
        if (detached)
        {
            return;
        }

        foreach (LoraLayer layer in layers)
        {
            if (!keepMerged)
            {
                foreach (LoraAdapter adapter in layer.Adapters.Where(a => a.Merged))
                {
                    layer.Unmerge(adapter);
                }
            }

            layer.Projection.Lora = null;
            layer.Dispose();
        }

        foreach (var (p, requiredGrad) in frozen)
        {
            p.requires_grad = requiredGrad;
        }

        detached = true;
    }

    public void Dispose() => Detach();

    private static List<(string Name, Projection Projection)> SelectProjections(nn.Module model, LayerSelection targets)
    {
        var selected = new List<(string, Projection)>();
        foreach (var (name, module) in model.named_modules())
        {
            if (module is Projection p && IsCandidate(p) && targets.Matches(name, p.Kind))
            {
                selected.Add((name, p));
            }
        }

        if (model is Projection self && IsCandidate(self) && targets.Matches(string.Empty, self.Kind))
        {
            selected.Add((string.Empty, self));
        }

        return selected;
    }

    /// <summary>PEFT's in-memory name, e.g. <c>model.layers.0.self_attn.q_proj.lora_A.task.weight</c> (no leading dot for a bare projection).</summary>
    private static string ParameterName(string module, string factor, string adapter) =>
        (module.Length == 0 ? string.Empty : module + ".") + $"{factor}.{adapter}.weight";

    /// <summary>A trainable projection; one that LoRA froze is kept too, so attaching twice is reported as such.</summary>
    private static bool IsCandidate(Projection p) => p.Weight.requires_grad || p.Lora is not null;

    private static IEnumerable<Parameter> OwnParameters(Projection p) => p.Bias is null ? [p.Weight] : [p.Weight, p.Bias];

    /// <summary>Sets requires_grad false on each parameter (once, tied ones included) and remembers the old flags.</summary>
    private static List<(Parameter, bool)> Freeze(IEnumerable<Parameter> parameters)
    {
        var seen = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        var frozen = new List<(Parameter, bool)>();
        foreach (Parameter p in parameters)
        {
            if (seen.Add(p))
            {
                frozen.Add((p, p.requires_grad));
                p.requires_grad = false;
            }
        }

        return frozen;
    }

    private void PushActive()
    {
        foreach (LoraLayer layer in layers)
        {
            layer.SetActive(active);
        }
    }

    private void Require(string name)
    {
        ThrowIfDetached();
        if (!configs.ContainsKey(name))
        {
            throw new MiguUserException(
                $"LoRA has no adapter '{name}'" + (names.Count > 0 ? $" (adapters: {string.Join(", ", names)})" : " (no adapter added yet)"));
        }
    }

    private void ThrowIfDetached()
    {
        if (detached)
        {
            throw new ObjectDisposedException(nameof(LoraAdapters), "LoRA was detached from this model");
        }
    }
}
