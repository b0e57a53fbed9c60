using System.CommandLine;
using System.CommandLine.Parsing;
using Migu.Continual.Recipes;
using Migu.Core;

namespace Migu.Cli.Run;

/// <summary>
/// A command's recipe flags, made from the settings' declarations (<see cref="RecipeOptions"/>): one
/// flag per declared setting of the command's scope, with the declared help. A flag given on the
/// command line overrides the same field of a recipe file; absent flags leave the recipe alone, unless
/// the command has defaults of its own (<c>eval</c>, <c>pretrain</c>), which then show in --help and apply.
/// A setting's aliases and shorthands (<c>--learning-rate</c>, <c>--bf16</c>) are flags of their own,
/// hidden from --help, whose line for the main flag names them; so the binder sees every name given
/// and refuses two that disagree, where the parser would only say that a flag was repeated.
/// </summary>
internal sealed class RecipeFlags
{
    private readonly List<(RecipeOption Declared, Flag Main, List<Flag> Others)> flags = [];

    /// <param name="scope">The command's flags (run, eval, pretrain).</param>
    /// <param name="defaults">The command's own defaults (shown and applied); null: absent flags change nothing.</param>
    /// <param name="required">Flags the command cannot do without.</param>
    public RecipeFlags(OptionScopes scope = OptionScopes.Run, Recipe? defaults = null, params string[] required)
    {
        foreach (RecipeOption declared in RecipeOptions.Flags(scope))
        {
            bool isRequired = required.Contains(declared.Flag);
            if (isRequired && declared.Names.Count() > 1)
            {
                throw new InvalidOperationException($"{declared.Flag}: a required flag with other names would be missing when given by another name");
            }

            object? fallback = defaults is null || isRequired ? null : DefaultOf(declared, defaults);
            Flag main = Make(declared.FlagType, declared.Flag!, declared.HelpWithNames, fallback, isRequired);
            List<Flag> others =
            [
                .. declared.Aliases.Select(alias => Make(declared.FlagType, alias, $"The same as {declared.Flag}", fallback: null, required: false, hidden: true)),
                .. declared.Shorthands.Select(s => Make(typeof(bool?), s.Flag, $"{declared.Flag} {s.On} ({s.Flag} false: {s.Off})", fallback: null, required: false, hidden: true)),
            ];
            flags.Add((declared, main, others));
        }
    }

    public IEnumerable<Option> All => flags.SelectMany(f => f.Others.Prepend(f.Main)).Select(f => f.Option);

    /// <summary>Adds the flags to <paramref name="command"/>, leaving out those it defines itself (and their other names).</summary>
    public void AddTo(Command command, IReadOnlyCollection<string>? except = null)
    {
        foreach (var (_, main, others) in flags.Where(f => except is null || !except.Contains(f.Declared.Flag)))
        {
            command.Options.Add(main.Option);
            foreach (Flag other in others)
            {
                command.Options.Add(other.Option);
            }
        }
    }

    /// <summary>
    /// The recipe the given flags make of <paramref name="recipe"/>: every name given on the command line
    /// (the binder refuses two names of one setting with different values), else the command's default.
    /// </summary>
    public Recipe Apply(ParseResult parse, Recipe recipe)
    {
        var given = new List<(string Name, object Value)>();
        foreach (var (declared, main, others) in flags)
        {
            var named = others.Prepend(main).Where(f => parse.GetResult(f.Option) is { Implicit: false }).ToList();
            foreach (Flag flag in named.Count > 0 ? named : [main]) // nothing given: the command's default, if it has one
            {
                if (flag.Value(parse) is { } value)
                {
                    given.Add((flag.Option.Name, value));
                }
            }
        }

        return RecipeOptions.ApplyFlags(recipe, given);
    }

    /// <summary>
    /// What to say of a flag the parser did not know that a Hugging Face user may write: its underscore
    /// spelling of one of the command's flags (<c>--learning_rate</c>; HF's parser takes both spellings,
    /// ours dashes), or its name of a like setting whose meaning differs (<c>--per-device-train-batch-size</c>:
    /// <c>--batch</c> and how they differ). Such a token is unmatched, or taken for the command's argument
    /// (run's RECIPE). Null when the command line has none.
    /// </summary>
    public static string? HintFor(ParseResult parse)
    {
        var options = parse.CommandResult.Command.Options.Select(o => o.Name).ToHashSet(StringComparer.Ordinal);
        foreach (string token in parse.Tokens.Where(t => t.Type == TokenType.Argument && t.Value.StartsWith("--", StringComparison.Ordinal)).Select(t => t.Value))
        {
            string dashed = token.Replace('_', '-');
            if (dashed != token && options.Contains(dashed))
            {
                return $"'{token}' is not a flag: flags are written with dashes ({dashed})";
            }

            if (RecipeOptions.All.FirstOrDefault(o => o.Declaration.Unlike.Contains(dashed) && options.Contains(o.Flag!)) is { } like)
            {
                return $"'{token}' is not a flag; {like.Flag} is the nearest, but differs: {like.Help}";
            }
        }

        return null;
    }

    private static Flag Make(Type type, string name, string help, object? fallback, bool required, bool hidden = false) => type switch
    {
        Type t when t == typeof(int?) => Make<int?>(name, help, fallback, required, hidden),
        Type t when t == typeof(long?) => Make<long?>(name, help, fallback, required, hidden),
        Type t when t == typeof(double?) => Make<double?>(name, help, fallback, required, hidden),
        Type t when t == typeof(bool?) => Make<bool?>(name, help, fallback, required, hidden),
        _ => Make<string?>(name, help, fallback, required, hidden),
    };

    private static Flag Make<T>(string name, string help, object? fallback, bool required, bool hidden)
    {
        var option = new Option<T>(name) { Description = help, Required = required, Hidden = hidden };
        if (fallback is not null)
        {
            option.DefaultValueFactory = _ => (T)fallback;
        }

        return new Flag(option, parse => parse.GetValue(option));
    }

    /// <summary>A command default as the flag takes it (names as text), or null when the setting has none.</summary>
    private static object? DefaultOf(RecipeOption declared, Recipe defaults)
    {
        string json = RecipeOptions.DefaultText(declared, defaults);
        if (json == "null")
        {
            return null;
        }

        object value = System.Text.Json.JsonSerializer.Deserialize(json, declared.Property.PropertyType, RecipeJson.Options)!;
        if (declared.Declaration.Negated)
        {
            value = !(bool)value;
        }

        return declared.FlagType == typeof(string)
            ? (value is string text ? text : json.Trim('"'))
            : value;
    }

    /// <summary>One name of a setting on the command line and how to read its value.</summary>
    private sealed record Flag(Option Option, Func<ParseResult, object?> Value);
}
