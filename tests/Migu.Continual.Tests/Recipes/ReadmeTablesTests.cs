using System.Text;
using System.Text.RegularExpressions;
using Migu.Continual.Recipes;
using Migu.Continual.Strategies;
using Migu.Core;

namespace Migu.Continual.Tests.Recipes;

/// <summary>
/// The README's method and option tables are made from the declarations (the method registry and
/// the <see cref="OptionAttribute"/>s on the recipe records), so they cannot drift: each table sits
/// between <c>&lt;!-- table: NAME --&gt;</c> and <c>&lt;!-- end table --&gt;</c>, and this test fails
/// when one differs from what the declarations make. MIGU_WRITE_README=1 rewrites them.
/// </summary>
public sealed partial class ReadmeTablesTests
{
    private static readonly string[] OwnTables = ["migu", "pretrain", "end_tasks", "forgetting"];

    public static TheoryData<string> Tables() => ["methods", "run-options", "migu-keys", "pretrain-keys", "end-tasks-keys", "forgetting-keys"];

    [Theory]
    [MemberData(nameof(Tables))]
    public void A_README_table_is_what_the_declarations_make(string name)
    {
        string path = RepoFiles.Path("README.md");
        string readme = File.ReadAllText(path);
        Match block = Block(name).Match(readme);
        Assert.True(block.Success, $"README.md has no table '{name}' (<!-- table: {name} --> … <!-- end table -->)");
        string expected = Make(name);
        if (Environment.GetEnvironmentVariable("MIGU_WRITE_README") == "1")
        {
            File.WriteAllText(path, readme[..block.Groups["body"].Index] + expected + readme[(block.Groups["body"].Index + block.Groups["body"].Length)..]);
            return;
        }

        Assert.True(expected == block.Groups["body"].Value, $"README.md's table '{name}' differs from the declarations; it should read:\n{expected}");
    }

    [Fact]
    public void Every_flag_is_declared_once_and_every_option_has_help()
    {
        var flags = RecipeOptions.All.SelectMany(o => o.Names).ToList(); // aliases and shorthands too
        Assert.Equal(flags.Distinct(StringComparer.Ordinal).Count(), flags.Count);
        Assert.Empty(RecipeOptions.All.SelectMany(o => o.Declaration.Unlike).Intersect(flags)); // a name that differs is never also an alias
        Assert.All(RecipeOptions.All, o => Assert.False(string.IsNullOrWhiteSpace(o.Help), o.Key));
        Assert.Contains("--lr", flags);
        Assert.Contains("migu.threshold", RecipeOptions.All.Select(o => o.Key));
    }

    private static string Make(string name) => name switch
    {
        "methods" => Table(["method", "what trains, what else happens"], ContinualMethods.All.Select(m => new[] { $"`{m.Name}`", m.Summary })),
        "run-options" => Table(
            ["recipe key", "flag", "default", "meaning"],
            RecipeOptions.All.Where(o => !OwnTables.Contains(o.Key.Split('.')[0]) && ContinualMethods.All.All(m => m.Section?.Name != o.Key.Split('.')[0]))
                .Select(o => new[] { $"`{o.Key}`", o.Declaration.Scopes.HasFlag(OptionScopes.Run) ? Flags(o) : "—", Default(o), Meaning(o) })),
        "migu-keys" => Keys("migu", withFlags: true, "flag"),
        "pretrain-keys" => Keys("pretrain", withFlags: true, "`migu pretrain` flag"),
        "end-tasks-keys" => Keys("end_tasks", withFlags: false),
        "forgetting-keys" => Keys("forgetting", withFlags: false),
        _ => throw new ArgumentException(name, nameof(name)),
    };

    private static string Keys(string section, bool withFlags, string flagColumn = "flag")
    {
        var options = RecipeOptions.All.Where(o => o.Key.StartsWith(section + ".", StringComparison.Ordinal));
        return withFlags
            ? Table([$"`{section}` key", flagColumn, "default", "meaning"], options.Select(o => new[] { $"`{o.Key[(section.Length + 1)..]}`", Flags(o), Default(o), Meaning(o) }))
            : Table([$"`{section}` key", "default", "meaning"], options.Select(o => new[] { $"`{o.Key[(section.Length + 1)..]}`", Default(o), o.Help }));
    }

    /// <summary>The flag and its other names (Hugging Face's aliases, shorthands), or a dash when only recipe files set it.</summary>
    private static string Flags(RecipeOption option) => option.Flag is null ? "—" : string.Join(", ", option.Names.Select(n => $"`{n}`"));

    /// <summary>The help, with what a shorthand stands for.</summary>
    private static string Meaning(RecipeOption option) => option.ShorthandHelp is string shorthands ? $"{option.Help} [{shorthands}]" : option.Help;

    /// <summary>The declared default as the README writes it: names and text in code font, numbers as they are.</summary>
    private static string Default(RecipeOption option)
    {
        string json = RecipeOptions.DefaultText(option);
        return json.StartsWith('"') ? $"`{json.Trim('"')}`" : json.StartsWith('[') ? $"`{json}`" : json;
    }

    private static string Table(string[] header, IEnumerable<string[]> rows)
    {
        var text = new StringBuilder();
        text.Append("| ").AppendJoin(" | ", header).Append(" |\n");
        text.Append('|').AppendJoin('|', header.Select(_ => "---")).Append("|\n");
        foreach (string[] row in rows)
        {
            text.Append("| ").AppendJoin(" | ", row.Select(Cell)).Append(" |\n");
        }

        return text.ToString();
    }

    // A pipe inside a cell would end it; <Type> outside code would vanish as HTML.
    private static string Cell(string text) => string.Join('`', text.Split('`').Select((part, i) => i % 2 == 1 ? part
        : part.Replace("|", "\\|", StringComparison.Ordinal).Replace("<", "&lt;", StringComparison.Ordinal).Replace(">", "&gt;", StringComparison.Ordinal)));

    private static Regex Block(string name) => new($@"<!-- table: {Regex.Escape(name)} -->\n(?<body>.*?)<!-- end table -->", RegexOptions.Singleline);
}
