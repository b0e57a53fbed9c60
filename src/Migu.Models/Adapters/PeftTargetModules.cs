using System.Text.RegularExpressions;
using Migu.Models.Checkpoints;

namespace Migu.Models.Adapters;

/// <summary>
/// PEFT's <c>target_modules</c>: either a list of names, where a module is targeted when its full name
/// is in the list or ends with "." + an entry (so <c>["q", "v"]</c> names leaves), or one regular
/// expression that must match the whole module name.
/// </summary>
public sealed class PeftTargetModules
{
    private readonly Regex? pattern;

    private PeftTargetModules(IReadOnlyList<string>? names, string? regex, string source)
    {
        Names = names;
        Regex = regex;
        if (regex is not null)
        {
            try
            {
                pattern = new Regex($"^(?:{regex})$", RegexOptions.CultureInvariant, TimeSpan.FromSeconds(1));
            }
            catch (ArgumentException e)
            {
                throw new CheckpointException($"{source}: target_modules '{regex}' is not a valid regular expression ({e.Message})", e);
            }
        }
    }

    /// <summary>The list form, or null when <see cref="Regex"/> is set.</summary>
    public IReadOnlyList<string>? Names { get; }

    /// <summary>The regular-expression form, or null when <see cref="Names"/> is set.</summary>
    public string? Regex { get; }

    public static PeftTargetModules FromNames(IEnumerable<string> names, string source = "target_modules") =>
        new(names.ToList(), null, source);

    public static PeftTargetModules FromRegex(string regex, string source = "target_modules") => new(null, regex, source);

    /// <summary>PEFT's rule for one module name.</summary>
    public bool Matches(string moduleName) =>
        pattern is not null
            ? pattern.IsMatch(moduleName)
            : Names!.Any(t => moduleName == t || moduleName.EndsWith("." + t, StringComparison.Ordinal));

    /// <summary>
    /// What to write for <paramref name="targeted"/> among all of a model's module names: the leaf
    /// names (e.g. <c>["q", "v"]</c>, as people write them) when PEFT's rule with them selects exactly
    /// the targeted modules, otherwise the full module names.
    /// </summary>
    public static PeftTargetModules Describe(IReadOnlyCollection<string> targeted, IReadOnlyCollection<string> allModuleNames)
    {
        var wanted = new HashSet<string>(targeted, StringComparer.Ordinal);
        var leaves = FromNames(targeted.Select(n => n[(n.LastIndexOf('.') + 1)..]).Distinct().Order(StringComparer.Ordinal));
        if (wanted.SetEquals(allModuleNames.Where(leaves.Matches)))
        {
            return leaves;
        }

        var full = FromNames(targeted.Order(StringComparer.Ordinal));
        if (!wanted.SetEquals(allModuleNames.Where(full.Matches)))
        {
            // A full name that is also the tail of another module's name: PEFT could not tell them apart.
            throw new CheckpointException($"target_modules: the LoRA modules cannot be named so that PEFT selects exactly them ({string.Join(", ", targeted.Take(3))}, …)");
        }

        return full;
    }

    public override string ToString() => Regex ?? $"[{string.Join(", ", Names!)}]";
}
