using System.Text.RegularExpressions;

namespace Migu.Core;

/// <summary>Which projections MIGU masks: a set of kinds, or a regular expression on module names.</summary>
public sealed class LayerSelection
{
    private static readonly ProjectionKind[] Attention =
        [ProjectionKind.Query, ProjectionKind.Key, ProjectionKind.Value, ProjectionKind.AttentionOutput];

    private static readonly ProjectionKind[] FeedForward =
        [ProjectionKind.FeedForwardUp, ProjectionKind.FeedForwardGate, ProjectionKind.FeedForwardDown];

    private readonly HashSet<ProjectionKind> kinds;
    private readonly Regex? pattern;

    private LayerSelection(HashSet<ProjectionKind> kinds, Regex? pattern, string text)
    {
        this.kinds = kinds;
        this.pattern = pattern;
        Text = text;
    }

    /// <summary>The text this selection was parsed from.</summary>
    public string Text { get; }

    /// <summary>
    /// Parses "all", "attention", "ffn", a comma list of q, k, v, o, ffn, attention, head, or
    /// "re:REGEX" (matched against the module name, e.g. <c>re:decoder\..*\.wo$</c>).
    /// </summary>
    public static LayerSelection Parse(string text)
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
                throw new MiguUserException($"MIGU layers: '{source}' is not a valid regular expression ({e.Message})", e);
            }
        }

        var set = new HashSet<ProjectionKind>();
        foreach (string raw in trimmed.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
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
                        $"MIGU layers: unknown selection '{raw}' (use all, attention, ffn, q, k, v, o, head, or re:REGEX)");
            }
        }

        if (set.Count == 0)
        {
            throw new MiguUserException("MIGU layers: the selection is empty (use all, attention, ffn, q, k, v, o, head, or re:REGEX)");
        }

        return new LayerSelection(set, null, trimmed);
    }

    /// <summary>True when the projection named <paramref name="name"/> of kind <paramref name="kind"/> is selected.</summary>
    public bool Matches(string name, ProjectionKind kind) =>
        pattern is not null ? pattern.IsMatch(name) : kinds.Contains(kind);

    public override string ToString() => Text;
}
