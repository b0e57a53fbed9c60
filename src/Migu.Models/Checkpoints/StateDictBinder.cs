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
        var used = new HashSet<string>(StringComparer.Ordinal);
        var missing = new List<string>();
        using var noGrad = no_grad();
        foreach (var (name, target) in Targets(module))
        {
            string? key = Candidates(name, aliases).FirstOrDefault(state.ContainsKey);
            if (key is null)
            {
                missing.Add(name);
                continue;
            }

            Tensor value = state[key];
            if (!value.shape.SequenceEqual(target.shape))
            {
                throw new CheckpointException(
                    $"{source}: '{key}' has shape [{string.Join(", ", value.shape)}] but the model's '{name}' is [{string.Join(", ", target.shape)}]");
            }

            target.copy_(value);
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

        var unexpected = state.Keys
            .Where(k => !used.Contains(k) && !aliasKeys.Contains(k) && !(ignorable?.Invoke(k) ?? false))
            .ToList();
        if (unexpected.Count > 0)
        {
            throw new CheckpointException($"{source}: unexpected key{(unexpected.Count > 1 ? "s" : "")} {Listed(unexpected)} (is this checkpoint of another model or configuration?)");
        }
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
