using System.Globalization;
using System.Reflection;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.Json.Serialization;
using Migu.Continual.Strategies;
using Migu.Core;

namespace Migu.Continual.Recipes;

/// <summary>
/// One setting of a recipe as its <see cref="OptionAttribute"/> declares it: where it sits (its
/// JSON key path, e.g. <c>training.lr</c>), its flag and help, and what its flag's value is.
/// </summary>
public sealed class RecipeOption
{
    internal RecipeOption(IReadOnlyList<string> path, PropertyInfo property, OptionAttribute declaration, Type section)
    {
        Path = path;
        Property = property;
        Declaration = declaration;
        Section = section;
        Shorthands = [.. property.GetCustomAttributes<ShorthandAttribute>()];
        if (Flag is null && (Aliases.Count > 0 || Shorthands.Count > 0))
        {
            throw new InvalidOperationException($"{Key}: aliases and shorthands need the setting to have a flag");
        }
    }

    /// <summary>The recipe key, dotted (<c>training.lr</c>, <c>migu.threshold</c>, <c>seed</c>).</summary>
    public string Key => string.Join('.', Path);

    /// <summary>The flag (<c>--lr</c>), or null for a setting only recipe files change.</summary>
    public string? Flag => Declaration.Flag;

    public string Help => Declaration.Help;

    /// <summary>The flag's other names (<c>--learning-rate</c> for <c>--lr</c>): same value, same setting.</summary>
    public IReadOnlyList<string> Aliases => Declaration.Aliases;

    /// <summary>Switches that stand for one value of the setting (<c>--bf16</c> for <c>--dtype bf16</c>).</summary>
    public IReadOnlyList<ShorthandAttribute> Shorthands { get; }

    /// <summary>Every name the setting answers to on a command line: its flag, aliases and shorthands; none without a flag.</summary>
    public IEnumerable<string> Names => Flag is null ? [] : [Flag, .. Aliases, .. Shorthands.Select(s => s.Flag)];

    /// <summary>What the shorthands stand for ("--bf16: bf16, --bf16 false: fp32"); null when there are none.</summary>
    public string? ShorthandHelp => Shorthands.Count == 0 ? null : string.Join("; ", Shorthands.Select(s => $"{s.Flag}: {s.On}, {s.Flag} false: {s.Off}"));

    /// <summary>
    /// The help with the flag's other names, as <c>--help</c> lists it, in brackets as the parser adds
    /// the default: "Learning rate [also --learning-rate]", "fp32, bf16 … [--bf16: bf16, --bf16 false: fp32]".
    /// </summary>
    public string HelpWithNames =>
        Help + (Aliases.Count > 0 ? $" [also {string.Join(", ", Aliases)}]" : string.Empty) + (ShorthandHelp is string shorthands ? $" [{shorthands}]" : string.Empty);

    public OptionAttribute Declaration { get; }

    public PropertyInfo Property { get; }

    /// <summary>
    /// What a flag's value arrives as: <c>int?</c>, <c>long?</c>, <c>double?</c> or <c>bool?</c> for
    /// numbers and switches, <c>string?</c> for text, names (enums, methods), lists and section switches.
    /// </summary>
    public Type FlagType
    {
        get
        {
            Type type = ValueType;
            return Declaration.Switches is null && (type == typeof(int) || type == typeof(long) || type == typeof(double) || type == typeof(bool))
                ? typeof(Nullable<>).MakeGenericType(type)
                : typeof(string);
        }
    }

    internal IReadOnlyList<string> Path { get; }

    /// <summary>The record the property belongs to (the recipe, or one of its sections).</summary>
    internal Type Section { get; }

    internal Type ValueType => Nullable.GetUnderlyingType(Property.PropertyType) ?? Property.PropertyType;

    public override string ToString() => Flag is null ? Key : $"{Flag} ({Key})";
}

/// <summary>
/// The recipe's settings, declared once by <see cref="OptionAttribute"/>s on the recipe records (and
/// on the sections of registered methods), and the one binder that applies flag values to a recipe.
/// The CLI's flags, <c>sweep --grid</c> keys and the README's option tables come from <see cref="All"/>.
/// </summary>
public static class RecipeOptions
{
    private static readonly JsonSerializerOptions OneLine = new(RecipeJson.Options) { WriteIndented = false };
    /// <summary>Every declared setting: the recipe's own, in declaration order, then the registered methods' sections.</summary>
    public static IReadOnlyList<RecipeOption> All
    {
        get
        {
            var found = new List<RecipeOption>();
            Collect(typeof(Recipe), [], found);
            foreach (var (name, type) in ContinualMethods.All.Select(m => m.Section).OfType<(string, Type)>())
            {
                Collect(type, [name], found);
            }

            return found;
        }
    }

    /// <summary>The settings with a flag in <paramref name="scope"/>.</summary>
    public static IEnumerable<RecipeOption> Flags(OptionScopes scope) =>
        All.Where(o => o.Flag is not null && o.Declaration.Scopes.HasFlag(scope));

    /// <summary>The setting that <paramref name="name"/> (a flag, an alias or a shorthand) sets; null when none.</summary>
    public static RecipeOption? Named(string name) => All.FirstOrDefault(o => o.Names.Contains(name, StringComparer.Ordinal));

    /// <summary>
    /// The recipe that <paramref name="values"/> (flag values, typed as <see cref="RecipeOption.FlagType"/>)
    /// make of <paramref name="recipe"/>; settings not given stay as they are. A section switch
    /// (<c>--migu T</c>, <c>--migu off</c>) applies first; the section's other flags need it on.
    /// A setting given twice with different values is refused.
    /// </summary>
    public static Recipe Apply(Recipe recipe, IEnumerable<(RecipeOption Option, object Value)> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return Apply(recipe, values.Select(v => new Given(v.Option, v.Option.Flag ?? v.Option.Key, v.Value, Shown(v.Option.Flag ?? v.Option.Key, v.Value))));
    }

    /// <summary>
    /// The recipe that flags given by name make of <paramref name="recipe"/>, as <see cref="Apply(Recipe, IEnumerable{ValueTuple{RecipeOption, object}})"/>
    /// does: a name is a flag, one of its aliases (<c>--learning-rate</c>, typed as the flag) or a shorthand
    /// (<c>--bf16</c>, whose value is true or false). One setting given under two names with different
    /// values (<c>--lr 1e-3 --learning-rate 2e-3</c>, <c>--dtype fp32 --bf16</c>) is refused, naming both.
    /// </summary>
    public static Recipe ApplyFlags(Recipe recipe, IEnumerable<(string Name, object Value)> values)
    {
        ArgumentNullException.ThrowIfNull(values);
        return Apply(recipe, values.Select(v =>
        {
            RecipeOption option = Named(v.Name) ?? throw new MiguUserException($"{v.Name} is not a recipe flag");
            if (option.Shorthands.FirstOrDefault(s => s.Flag == v.Name) is not { } shorthand)
            {
                return new Given(option, v.Name, v.Value, Shown(v.Name, v.Value));
            }

            bool on = v.Value as bool? ?? throw new ArgumentException($"{v.Name} takes true or false, got {v.Value}", nameof(values));
            return new Given(option, v.Name, on ? shorthand.On : shorthand.Off, on ? v.Name : $"{v.Name} false");
        }));
    }

    private static Recipe Apply(Recipe recipe, IEnumerable<Given> values)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        var given = new List<Given>();
        foreach (var sameSetting in values.GroupBy(g => g.Option.Key))
        {
            var distinct = sameSetting.DistinctBy(g => Canonical(g)).ToList();
            if (distinct.Count > 1)
            {
                throw new MiguUserException($"{distinct[0].Shown} and {distinct[1].Shown} both set {sameSetting.Key}: give one of them");
            }

            given.Add(distinct[0]);
        }

        JsonObject root = JsonSerializer.SerializeToNode(recipe, RecipeJson.Options)!.AsObject();
        foreach (var (option, _, value, _) in given.Where(g => g.Option.Declaration.Switches is not null))
        {
            Switch(root, option, (string)value);
        }

        foreach (var (option, name, value, _) in given.Where(g => g.Option.Declaration.Switches is null))
        {
            JsonObject section = SectionOf(root, option);
            string key = option.Path[^1];
            section[key] = ToJson(option, value, name);
            if (option.Declaration.Clears is string cleared)
            {
                section.Remove(cleared);
            }
        }

        Recipe result = root.Deserialize<Recipe>(RecipeJson.Options)!;
        result.Migu?.Validate();
        return result;
    }

    /// <summary>An enum from its snake_case (or any-case, '-' or '_') name; an unknown name lists the known ones.</summary>
    public static T ParseEnum<T>(string text, string flag)
        where T : struct, Enum => (T)ParseEnum(typeof(T), text, flag);

    /// <summary>
    /// A setting's value in <paramref name="recipe"/> (default: a new recipe, i.e. the declared default)
    /// as one line of JSON; an absent section gives its own defaults.
    /// </summary>
    public static string DefaultText(RecipeOption option, Recipe? recipe = null)
    {
        ArgumentNullException.ThrowIfNull(option);
        object section = recipe ?? new Recipe();
        foreach (string key in option.Path.SkipLast(1))
        {
            PropertyInfo? property = Properties(section.GetType()).FirstOrDefault(p => JsonName(p) == key);
            section = property?.GetValue(section) ?? Activator.CreateInstance(property is null ? option.Section : Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType)!;
        }

        object? value = option.Property.GetValue(section);
        return value is null ? "null" : JsonSerializer.SerializeToNode(value, option.Property.PropertyType, OneLine)!.ToJsonString(OneLine);
    }

    private static void Collect(Type type, IReadOnlyList<string> prefix, List<RecipeOption> found)
    {
        foreach (PropertyInfo property in Properties(type))
        {
            IReadOnlyList<string> path = [.. prefix, JsonName(property)];
            if (property.GetCustomAttribute<OptionAttribute>() is { } declaration)
            {
                found.Add(new RecipeOption(path, property, declaration, type));
                continue;
            }

            Type section = Nullable.GetUnderlyingType(property.PropertyType) ?? property.PropertyType;
            if (section.IsClass && section != typeof(string) && Properties(section).Any(p => p.GetCustomAttribute<OptionAttribute>() is not null))
            {
                Collect(section, path, found);
            }
        }
    }

    // Declaration order (metadata order), the order flags are listed in.
    private static IEnumerable<PropertyInfo> Properties(Type type) =>
        type.GetProperties(BindingFlags.Public | BindingFlags.Instance).Where(p => p.CanWrite).OrderBy(p => p.MetadataToken);

    private static string JsonName(PropertyInfo property) =>
        property.GetCustomAttribute<JsonPropertyNameAttribute>()?.Name ?? RecipeJson.Options.PropertyNamingPolicy!.ConvertName(property.Name);

    /// <summary>A section switch: <c>off</c> (or <c>none</c>) removes the section, a value turns it on with that value.</summary>
    private static void Switch(JsonObject root, RecipeOption option, string text)
    {
        JsonObject parent = Parent(root, option.Path.SkipLast(2));
        string sectionKey = option.Path[^2];
        if (text.Equals("off", StringComparison.OrdinalIgnoreCase) || text.Equals("none", StringComparison.OrdinalIgnoreCase))
        {
            parent.Remove(sectionKey);
            return;
        }

        object value = Convert.ChangeType(ParseNumber(option, text), option.ValueType, CultureInfo.InvariantCulture);
        if (parent[sectionKey] is not JsonObject section)
        {
            section = JsonSerializer.SerializeToNode(Activator.CreateInstance(option.Section), option.Section, RecipeJson.Options)!.AsObject();
            parent[sectionKey] = section;
        }

        section[option.Path[^1]] = JsonSerializer.SerializeToNode(value, option.ValueType, RecipeJson.Options);
    }

    private static double ParseNumber(RecipeOption option, string text) =>
        double.TryParse(text, NumberStyles.Float, CultureInfo.InvariantCulture, out double value)
            ? value
            : throw new MiguUserException($"{option.Flag} takes {option.Declaration.ValueName ?? "a number"} or 'off', got '{text}'");

    /// <summary>The object a setting is written into; an absent optional section is made from its defaults, unless a switch flag owns it.</summary>
    private static JsonObject SectionOf(JsonObject root, RecipeOption option)
    {
        JsonObject current = root;
        for (int i = 0; i < option.Path.Count - 1; i++)
        {
            string key = option.Path[i];
            if (current[key] is JsonObject next)
            {
                current = next;
                continue;
            }

            if (All.FirstOrDefault(o => o.Declaration.Switches is not null && o.Section == option.Section) is { } owner)
            {
                string others = Joined([.. All.Where(o => o.Section == option.Section && o.Flag is not null && o != owner && o.Declaration.Switches is null).Select(o => o.Flag!)]);
                throw new MiguUserException(
                    $"{others} need {owner.Declaration.Switches} on: add {owner.Flag} {owner.Declaration.ValueName} (e.g. {owner.Flag} {DefaultText(owner)})");
            }

            Type type = i == option.Path.Count - 2 ? option.Section : throw new InvalidOperationException($"{option.Key}: nested optional sections are not supported");
            next = JsonSerializer.SerializeToNode(Activator.CreateInstance(type), type, RecipeJson.Options)!.AsObject();
            current[key] = next;
            current = next;
        }

        return current;
    }

    private static JsonObject Parent(JsonObject root, IEnumerable<string> path)
    {
        JsonObject current = root;
        foreach (string key in path)
        {
            current = current[key] as JsonObject ?? throw new InvalidOperationException($"the recipe has no section '{key}'");
        }

        return current;
    }

    /// <summary>What a given value makes of its setting, to compare two values given under different names.</summary>
    private static string Canonical(Given given) =>
        given.Option.Declaration.Switches is not null
            ? ((string)given.Value).Trim().ToLowerInvariant()
            : ToJson(given.Option, given.Value, given.Name)?.ToJsonString(OneLine) ?? "null";

    /// <summary>A value as its name and the text a command line gives it ("--lr 0.001"), for messages.</summary>
    private static string Shown(string name, object value) => value switch
    {
        bool b => $"{name} {(b ? "true" : "false")}",
        IFormattable number => $"{name} {number.ToString(null, CultureInfo.InvariantCulture)}",
        _ => $"{name} {value}",
    };

    private static JsonNode? ToJson(RecipeOption option, object value, string flag)
    {
        Type type = option.ValueType;
        if (option.Declaration.Negated)
        {
            value = !(bool)value;
        }

        if (type.IsEnum)
        {
            return JsonSerializer.SerializeToNode(ParseEnum(type, (string)value, flag), type, RecipeJson.Options);
        }

        if (option.Property.GetCustomAttribute<JsonConverterAttribute>()?.ConverterType == typeof(MethodNameConverter))
        {
            string text = (string)value;
            return JsonValue.Create(ContinualMethods.Find(text)?.Name
                ?? throw new MiguUserException($"{flag}: '{text}' is not one of {string.Join(", ", ContinualMethods.All.Select(m => m.Name))}"));
        }

        if (typeof(IEnumerable<string>).IsAssignableFrom(type) && type != typeof(string))
        {
            return new JsonArray([.. ((string)value).Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(t => (JsonNode)JsonValue.Create(t)!)]);
        }

        return JsonSerializer.SerializeToNode(value, value.GetType(), RecipeJson.Options);
    }

    private static object ParseEnum(Type type, string text, string flag)
    {
        string key = text.Replace("_", string.Empty, StringComparison.Ordinal).Replace("-", string.Empty, StringComparison.Ordinal);
        if (!int.TryParse(text, out _) && Enum.TryParse(type, key, ignoreCase: true, out object? value) && Enum.IsDefined(type, value))
        {
            return value;
        }

        string known = string.Join(", ", Enum.GetNames(type).Select(n => JsonNamingPolicy.SnakeCaseLower.ConvertName(n)));
        throw new MiguUserException($"{flag}: '{text}' is not one of {known}");
    }

    /// <summary>A flag value as given: the setting, the name it was given under, the value (a shorthand's already resolved) and how to show it.</summary>
    private readonly record struct Given(RecipeOption Option, string Name, object Value, string Shown);

    /// <summary>"a, b and c".</summary>
    private static string Joined(IReadOnlyList<string> items) =>
        items.Count <= 1 ? string.Concat(items) : $"{string.Join(", ", items.Take(items.Count - 1))} and {items[^1]}";
}
