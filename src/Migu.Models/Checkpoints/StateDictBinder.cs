using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Checkpoints;

/// <summary>
/// Copies a checkpoint's tensors into a module's parameters and buffers by name, converting the
/// dtype, and refuses a checkpoint that does not fit with a message naming the key.
/// </summary>
public static class StateDictBinder
{
    /// <summary>
    /// Loads <paramref name="state"/> into <paramref name="module"/>. <paramref name="aliases"/> maps
    /// a module key to other checkpoint keys that may hold it (tied embeddings: <c>shared.weight</c>
    /// ↔ <c>encoder.embed_tokens.weight</c>, <c>lm_head.weight</c>); <paramref name="ignorable"/>
    /// says which unexpected checkpoint keys may be skipped silently (e.g. rotary caches).
    /// </summary>
    public static void Load(
        nn.Module module,
        IReadOnlyDictionary<string, Tensor> state,
        string source,
        IReadOnlyDictionary<string, string[]>? aliases = null,
        Func<string, bool>? ignorable = null)
    {
        ArgumentNullException.ThrowIfNull(state);
        var plan = Plan(module, state.ToDictionary(kv => kv.Key, kv => (IReadOnlyList<long>)kv.Value.shape, StringComparer.Ordinal), source, aliases, ignorable);
        using var noGrad = no_grad();
        foreach (var (target, key) in plan)
        {
            target.copy_(state[key]);
        }
    }

    /// <summary>
    /// The checks of <see cref="Load"/> (missing, unexpected and misshapen keys) against tensor shapes
    /// alone, e.g. a module on the meta device against a checkpoint's headers: nothing is copied.
    /// </summary>
    public static void Check(
        nn.Module module,
        IReadOnlyDictionary<string, IReadOnlyList<long>> shapes,
        string source,
        IReadOnlyDictionary<string, string[]>? aliases = null,
        Func<string, bool>? ignorable = null) =>
        Plan(module, shapes, source, aliases, ignorable);

    /// <summary>Which checkpoint key fills each target, or the first problem, named.</summary>
    private static List<(Tensor Target, string Key)> Plan(
        nn.Module module,
        IReadOnlyDictionary<string, IReadOnlyList<long>> shapes,
        string source,
        IReadOnlyDictionary<string, string[]>? aliases,
        Func<string, bool>? ignorable)
    {
        var plan = new List<(Tensor, string)>();
        var used = new HashSet<string>(StringComparer.Ordinal);
        var missing = new List<string>();
        foreach (var (name, target) in Targets(module))
        {
            string? key = Candidates(name, aliases).FirstOrDefault(shapes.ContainsKey);
            if (key is null)
            {
                missing.Add(name);
                continue;
            }

            IReadOnlyList<long> shape = shapes[key];
            if (!shape.SequenceEqual(target.shape))
            {
                throw new CheckpointException(
                    $"{source}: '{key}' has shape [{string.Join(", ", shape)}] but the model's '{name}' is [{string.Join(", ", target.shape)}]");
            }

            plan.Add((target, key));
            used.Add(key);
        }

        if (missing.Count > 0)
        {
            throw new CheckpointException($"{source}: missing key{(missing.Count > 1 ? "s" : "")} {Listed(missing)}");
        }

        // Aliases of a used key (a tied copy stored twice) are not "unexpected".
        var aliasKeys = new HashSet<string>(aliases?.Values.SelectMany(v => v) ?? [], StringComparer.Ordinal);
        if (aliases is not null)
        {
            aliasKeys.UnionWith(aliases.Keys);
        }

        var unexpected = shapes.Keys
            .Where(k => !used.Contains(k) && !aliasKeys.Contains(k) && !(ignorable?.Invoke(k) ?? false))
            .ToList();
        if (unexpected.Count > 0)
        {
            throw new CheckpointException($"{source}: unexpected key{(unexpected.Count > 1 ? "s" : "")} {Listed(unexpected)} (is this checkpoint of another model or configuration?)");
        }

        return plan;
    }

    /// <summary>The module's parameters and persistent buffers, by state-dict name.</summary>
    public static IEnumerable<(string Name, Tensor Tensor)> Targets(nn.Module module)
    {
        foreach (var (name, p) in module.named_parameters())
        {
            yield return (name, p);
        }

        foreach (var (name, b) in module.named_buffers())
        {
            yield return (name, b);
        }
    }

    private static IEnumerable<string> Candidates(string name, IReadOnlyDictionary<string, string[]>? aliases)
    {
        yield return name;
        if (aliases is not null && aliases.TryGetValue(name, out string[]? others))
        {
            foreach (string o in others)
            {
                yield return o;
            }
        }
    }

    internal static string Listed(IReadOnlyList<string> keys) =>
        string.Join(", ", keys.Take(5).Select(k => $"'{k}'")) + (keys.Count > 5 ? $" and {keys.Count - 5} more" : string.Empty);
}
