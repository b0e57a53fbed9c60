using System.CommandLine;
using System.Globalization;
using Migu.Cli.Run;
using Migu.Continual.Recipes;
using Migu.Core;
using Migu.Reports.Charts;
using Migu.Reports.Writing;
using Spectre.Console;

namespace Migu.Cli.Commands;

/// <summary>
/// <c>migu sweep RECIPE.json --grid migu=0,0.3,0.7 --seeds 42,1024 --out DIR</c>: every grid point ×
/// seed as its own run (DIR/migu=0.3/seed=42, …), one after another; finished runs are skipped and
/// an interrupted one resumes, so re-running the command continues the sweep. Then a report of all.
/// A grid key is any <c>migu run</c> flag without its dashes (migu, lr, method, migu-mode, epochs, …),
/// an alias (learning-rate) or a shorthand (bf16=true,false); <c>migu=0</c> means MIGU off, the
/// baseline of a threshold sweep.
/// </summary>
internal static class SweepCommand
{
    public static Command Create()
    {
        var recipeFile = new Argument<string?>("RECIPE") { Description = "Base recipe JSON (optional; flags alone make one too)", Arity = ArgumentArity.ZeroOrOne };
        var grid = new Option<string[]>("--grid") { Description = "KEY=V1,V2,… (repeat for a product of several keys)", Required = true, AllowMultipleArgumentsPerToken = false };
        var seeds = new Option<string>("--seeds") { Description = "Seeds, comma-separated", DefaultValueFactory = _ => "42" };
        var output = new Option<string>("--out") { Description = "Sweep directory (one run store per grid point and seed, and report/)", Required = true };
        var flags = new RecipeFlags();
        var command = new Command("sweep", "Run a grid of recipes over seeds (resumable) and report them together")
        {
            recipeFile, grid, seeds, output,
        };
        flags.AddTo(command, except: ["--seed"]);
        command.SetAction(parse => CliErrors.Run(parse, () =>
        {
            string root = OutPath.Directory(parse.GetValue(output)!);
            Recipe baseRecipe = flags.Apply(parse, parse.GetValue(recipeFile) is string path ? RecipeJson.Load(path) : new Recipe());
            var axes = ParseGrid(parse.GetValue(grid)!);
            long[] seedList = [.. parse.GetValue(seeds)!.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(ParseSeed)];
            var points = Product(axes);
            var runs = new List<string>();
            int total = points.Count * seedList.Length;
            int index = 0;
            foreach (var point in points)
            {
                Recipe pointRecipe = ApplyPoint(baseRecipe, point);
                foreach (long seed in seedList)
                {
                    index++;
                    string name = string.Join(',', point.Select(kv => $"{kv.Key}={kv.Value}"));
                    string dir = Path.Combine(root, name, $"seed={seed}");
                    Recipe recipe = pointRecipe with
                    {
                        Seed = seed,
                        Migu = pointRecipe.Migu is null ? null : pointRecipe.Migu with { Seed = seed },
                    };
                    RunSession.Execute(recipe, dir, $"{index}/{total} {name} seed={seed}");

                    runs.Add(dir);
                }
            }

            ReportResult report = ReportGenerator.Write(runs, new ReportOptions { OutDirectory = Path.Combine(root, "report"), Format = ReportImageFormat.Png });
            ReportSummary.Print(report);
            AnsiConsole.MarkupLine($"report: [blue]{Markup.Escape(report.ReportPath)}[/]");
            return 0;
        }));
        return command;
    }

    /// <summary>
    /// The grid's axes, one per --grid. Two keys for one setting (lr and learning-rate, dtype and bf16,
    /// or one key twice) are refused: the later would silently override the earlier at every point.
    /// </summary>
    internal static List<(string Key, string[] Values)> ParseGrid(IEnumerable<string> texts)
    {
        var axes = texts.Select(ParseAxis).ToList();
        foreach (var sameSetting in axes.GroupBy(a => RecipeOptions.Named("--" + a.Key)?.Key ?? a.Key).Where(g => g.Count() > 1))
        {
            string[] keys = [.. sameSetting.Select(a => a.Key)];
            throw new MiguUserException($"--grid: {keys[0]} and {keys[1]} both set {sameSetting.Key}; give one grid key per setting");
        }

        return axes;
    }

    /// <summary>"migu=0,0.3" → ("migu", ["0", "0.3"]).</summary>
    private static (string Key, string[] Values) ParseAxis(string text)
    {
        int eq = text.IndexOf('=', StringComparison.Ordinal);
        string[] values = eq > 0 ? text[(eq + 1)..].Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries) : [];
        if (eq <= 0 || values.Length == 0)
        {
            throw new MiguUserException($"--grid: '{text}' is not KEY=V1,V2,… (e.g. migu=0,0.3,0.7)");
        }

        string key = text[..eq].Trim().TrimStart('-');
        if (key is "seed" or "out")
        {
            throw new MiguUserException($"--grid: '{key}' cannot be a grid key (use --seeds for seeds)");
        }

        return (key, values);
    }

    private static long ParseSeed(string text) =>
        long.TryParse(text, NumberStyles.Integer, CultureInfo.InvariantCulture, out long seed)
            ? seed
            : throw new MiguUserException($"--seeds: '{text}' is not a whole number");

    private static List<List<KeyValuePair<string, string>>> Product(List<(string Key, string[] Values)> axes)
    {
        var points = new List<List<KeyValuePair<string, string>>> { new() };
        foreach (var (key, values) in axes)
        {
            points = [.. points.SelectMany(p => values.Select(v => new List<KeyValuePair<string, string>>(p) { new(key, v) }))];
        }

        return points;
    }

    /// <summary>The recipe a grid point means: its key=value pairs read as `migu run` flags (aliases and shorthands too) on top of the base recipe.</summary>
    internal static Recipe ApplyPoint(Recipe baseRecipe, List<KeyValuePair<string, string>> point)
    {
        var flags = new RecipeFlags();
        var probe = new Command("point");
        flags.AddTo(probe);
        var args = new List<string>();
        foreach (var (key, value) in point)
        {
            // T = 0 masks nothing: the sweep's baseline is MIGU off.
            string v = key == "migu" && double.TryParse(value, NumberStyles.Float, CultureInfo.InvariantCulture, out double t) && t == 0 ? "off" : value;
            args.Add("--" + key);
            args.Add(v);
        }

        ParseResult parsed = probe.Parse(args);
        if (parsed.Errors.Count > 0)
        {
            throw new MiguUserException($"--grid: {parsed.Errors[0].Message}");
        }

        return flags.Apply(parsed, baseRecipe);
    }
}
