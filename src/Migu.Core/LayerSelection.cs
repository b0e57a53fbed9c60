using System.Text.RegularExpressions;

namespace Migu.Core;

/// <summary>Which projections MIGU masks (or LoRA wraps): a set of kinds, a regular expression on module names, or a list of names.</summary>
public sealed class LayerSelection
{
    private static readonly ProjectionKind[] Attention =
        [ProjectionKind.Query, ProjectionKind.Key, ProjectionKind.Value, ProjectionKind.AttentionOutput];

    private static readonly ProjectionKind[] FeedForward =
        [ProjectionKind.FeedForwardUp, ProjectionKind.FeedForwardGate, ProjectionKind.FeedForwardDown];

    // "all+head" means "all,head": a list that fits where commas already separate values (sweep --grid).
    private static readonly char[] Separators = [',', '+'];

    private readonly HashSet<ProjectionKind> kinds;
    private readonly Regex? pattern;
    private readonly HashSet<string>? names;

    private LayerSelection(HashSet<ProjectionKind> kinds, Regex? pattern, string text, HashSet<string>? names = null)
    {
        this.kinds = kinds;
        this.pattern = pattern;
        this.names = names;
        Text = text;
    }

    /// <summary>The text this selection was parsed from.</summary>
    public string Text { get; }

    /// <summary>
    /// Parses "all", "attention", "ffn", a list (comma or +) of q, k, v, o, ffn, attention, head, or
    /// "re:REGEX" (matched against the module name, e.g. <c>re:decoder\..*\.wo$</c>).
    /// <paramref name="what"/> names the option in error messages.
    /// </summary>
    public static LayerSelection Parse(string text, string what = "MIGU layers")
    {
        string trimmed = text.Trim();
        if (trimmed.StartsWith("re:", StringComparison.Ordinal))
        {
            string source = trimmed[3..];
            try
            {
                return new LayerSelection([], new Regex(source, RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1)), trimmed);
            }
            catch (ArgumentException e)
            {
                throw new MiguUserException($"{what}: '{source}' is not a valid regular expression ({e.Message})", e);
            }
        }

        var set = new HashSet<ProjectionKind>();
        foreach (string raw in trimmed.Split(Separators, StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            switch (raw.ToLowerInvariant())
            {
                case "all":
                    set.UnionWith(Attention);
                    set.UnionWith(FeedForward);
                    break;
                case "attention" or "attn":
                    set.UnionWith(Attention);
                    break;
                case "ffn" or "mlp":
                    set.UnionWith(FeedForward);
                    break;
                case "q":
                    set.Add(ProjectionKind.Query);
                    break;
                case "k":
                    set.Add(ProjectionKind.Key);
                    break;
                case "v":
                    set.Add(ProjectionKind.Value);
                    break;
                case "o":
                    set.Add(ProjectionKind.AttentionOutput);
                    break;
                case "head":
                    set.Add(ProjectionKind.Head);
                    break;
                default:
                    throw new MiguUserException(
                        $"{what}: unknown selection '{raw}' (use all, attention, ffn, q, k, v, o, head, or re:REGEX)");
            }
        }

        if (set.Count == 0)
        {
            throw new MiguUserException($"{what}: the selection is empty (use all, attention, ffn, q, k, v, o, head, or re:REGEX)");
        }

        return new LayerSelection(set, null, trimmed);
    }

    /// <summary>
    /// Exactly the modules named (full module names such as <c>model.layers.0.self_attn.q_proj</c>),
    /// for selections that come from a file rather than from an option, e.g. a PEFT adapter's modules.
    /// </summary>
    public static LayerSelection Named(IEnumerable<string> moduleNames)
    {
        var set = new HashSet<string>(moduleNames, StringComparer.Ordinal);
        return new LayerSelection([], null, $"{set.Count} named module{(set.Count == 1 ? "" : "s")}", set);
    }

    /// <summary>True when the projection named <paramref name="name"/> of kind <paramref name="kind"/> is selected.</summary>
    public bool Matches(string name, ProjectionKind kind) =>
        names is not null ? names.Contains(name) : pattern is not null ? pattern.IsMatch(name) : kinds.Contains(kind);

    public override string ToString() => Text;
}
