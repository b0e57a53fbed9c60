using System.CommandLine;
using Migu.Continual.Recipes;
using Migu.Core;

namespace Migu.Cli.Run;

/// <summary>
/// A command's recipe flags, made from the settings' declarations (<see cref="RecipeOptions"/>): one
/// flag per declared setting of the command's scope, with the declared help. A flag given on the
/// command line overrides the same field of a recipe file; absent flags leave the recipe alone, unless
/// the command has defaults of its own (<c>eval</c>, <c>pretrain</c>), which then show in --help and apply.
/// </summary>
internal sealed class RecipeFlags
{
    private readonly List<(RecipeOption Declared, Option Flag, Func<ParseResult, object?> Value)> flags = [];

    /// <param name="scope">The command's flags (run, eval, pretrain).</param>
    /// <param name="defaults">The command's own defaults (shown and applied); null: absent flags change nothing.</param>
    /// <param name="required">Flags the command cannot do without.</param>
    public RecipeFlags(OptionScopes scope = OptionScopes.Run, Recipe? defaults = null, params string[] required)
    {
        Recipe? shown = defaults;
        foreach (RecipeOption declared in RecipeOptions.Flags(scope))
        {
            object? fallback = shown is null || required.Contains(declared.Flag) ? null : DefaultOf(declared, shown);
            flags.Add(declared.FlagType switch
            {
                Type t when t == typeof(int?) => Make<int?>(declared, fallback, required),
                Type t when t == typeof(long?) => Make<long?>(declared, fallback, required),
                Type t when t == typeof(double?) => Make<double?>(declared, fallback, required),
                Type t when t == typeof(bool?) => Make<bool?>(declared, fallback, required),
                _ => Make<string?>(declared, fallback, required),
            });
        }
    }

    public IEnumerable<Option> All => flags.Select(f => f.Flag);

    /// <summary>Adds the flags to <paramref name="command"/>, leaving out those it defines itself.</summary>
    public void AddTo(Command command, IReadOnlyCollection<string>? except = null)
    {
        foreach (Option o in All.Where(o => except is null || !except.Contains(o.Name)))
        {
            command.Options.Add(o);
        }
    }

    /// <summary>The recipe the given flags make of <paramref name="recipe"/>.</summary>
    public Recipe Apply(ParseResult parse, Recipe recipe) =>
        RecipeOptions.Apply(recipe, flags.Select(f => (f.Declared, Value: f.Value(parse))).Where(f => f.Value is not null).Select(f => (f.Declared, f.Value!)));

    private static (RecipeOption, Option, Func<ParseResult, object?>) Make<T>(RecipeOption declared, object? fallback, string[] required)
    {
        var option = new Option<T>(declared.Flag!) { Description = declared.Help, Required = required.Contains(declared.Flag) };
        if (fallback is not null)
        {
            option.DefaultValueFactory = _ => (T)fallback;
        }

        return (declared, option, parse => parse.GetValue(option));
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
}
