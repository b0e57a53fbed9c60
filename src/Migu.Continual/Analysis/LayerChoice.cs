using System.Text.RegularExpressions;
using Migu.Core;
using TorchSharp;

namespace Migu.Continual.Analysis;

/// <summary>Which linear layers of a model the analysis averages over, and which one it plots.</summary>
internal static class LayerChoice
{
    private const int NamesInErrors = 8;

    /// <summary>Every projection of <paramref name="model"/>, in module order.</summary>
    public static IReadOnlyList<AnalysisLayer> All(torch.nn.Module model) =>
        [.. model.named_modules().Where(m => m.module is Projection).Select(m => new AnalysisLayer(m.name, (Projection)m.module))];

    /// <summary>The layers <paramref name="selection"/> (MIGU's layer syntax) names; at least one.</summary>
    public static IReadOnlyList<AnalysisLayer> Select(IReadOnlyList<AnalysisLayer> all, string selection, string modelLabel)
    {
        LayerSelection parsed = LayerSelection.Parse(selection, "--layers");
        var chosen = all.Where(l => parsed.Matches(l.Name, l.Kind)).ToList();
        return chosen.Count > 0
            ? chosen
            : throw new MiguUserException($"--layers '{selection}' selects no linear layer of {modelLabel}; {Examples(all)}");
    }

    /// <summary>
    /// The layer named by <paramref name="spec"/>: a module name (a trailing <c>.weight</c> is
    /// allowed) or <c>re:REGEX</c> (the first layer in module order whose name it matches). Null
    /// picks the middle FFN input layer among <paramref name="selected"/>, whose many units give
    /// the richest distribution, or the middle selected layer when there is no FFN among them.
    /// </summary>
    public static AnalysisLayer Distribution(IReadOnlyList<AnalysisLayer> all, IReadOnlyList<AnalysisLayer> selected, string? spec, string modelLabel)
    {
        if (spec is null)
        {
            var ffn = selected.Where(l => l.Kind == ProjectionKind.FeedForwardUp).ToList();
            var pool = ffn.Count > 0 ? ffn : selected;
            return pool[(pool.Count - 1) / 2];
        }

        string trimmed = spec.Trim();
        AnalysisLayer? found;
        if (trimmed.StartsWith("re:", StringComparison.Ordinal))
        {
            Regex pattern;
            try
            {
                pattern = new Regex(trimmed[3..], RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
            }
            catch (ArgumentException e)
            {
                throw new MiguUserException($"--layer: '{trimmed[3..]}' is not a valid regular expression ({e.Message})", e);
            }

            found = all.FirstOrDefault(l => pattern.IsMatch(l.Name));
        }
        else
        {
            string name = trimmed.EndsWith(".weight", StringComparison.Ordinal) ? trimmed[..^".weight".Length] : trimmed;
            found = all.FirstOrDefault(l => l.Name == name);
        }

        return found ?? throw new MiguUserException($"--layer '{trimmed}' names no linear layer of {modelLabel}; {Examples(all)}");
    }

    /// <summary>"its N linear layers include a, b, …": the first layer of each kind, which shows how the names are built.</summary>
    private static string Examples(IReadOnlyList<AnalysisLayer> all)
    {
        if (all.Count == 0)
        {
            return "it has no linear layers";
        }

        var picks = all.GroupBy(l => l.Kind).Select(g => g.First().Name).Take(NamesInErrors);
        return $"its {all.Count} linear layers include {string.Join(", ", picks)}";
    }
}
