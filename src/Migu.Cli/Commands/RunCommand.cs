using System.CommandLine;
using Migu.Cli.Run;
using Migu.Continual.Recipes;
using Migu.Continual.Runs;
using Migu.Core;
using Spectre.Console;

namespace Migu.Cli.Commands;

/// <summary>
/// <c>migu run [RECIPE.json] [flags] --out DIR</c>: a continual-learning run from a recipe file, from
/// flags, or both (flags override the file). Re-running on the same DIR resumes it.
/// </summary>
internal static class RunCommand
{
    public static Command Create()
    {
        var recipeFile = new Argument<string?>("RECIPE") { Description = "Recipe JSON (optional; flags alone make a recipe too)", Arity = ArgumentArity.ZeroOrOne };
        var output = new Option<string?>("--out") { Description = "Run directory (created; an existing run of the same recipe is resumed)" };
        var dump = new Option<bool>("--dump-recipe") { Description = "Print the recipe these arguments mean, as JSON, and exit" };
        var flags = new RecipeFlags();
        var command = new Command("run", "Train a model on a sequence of tasks, scoring every task after each one (accuracy matrix, ACC, BWT, FWT, forgetting)")
        {
            recipeFile, output, dump,
        };
        flags.AddTo(command);
        command.Options.Add(LocalLauncher.CreateOption()); // handled before parsing (Program.cs); listed for --help
        command.SetAction(parse => CliErrors.Run(parse, () =>
        {
            Recipe recipe = flags.Apply(parse, parse.GetValue(recipeFile) is string path ? RecipeJson.Load(path) : new Recipe());
            if (parse.GetValue(dump))
            {
                Console.WriteLine(RecipeJson.Serialize(recipe));
                return 0;
            }

            string outDirectory = OutPath.Directory(parse.GetValue(output)
                ?? throw new MiguUserException("--out DIR is required: the run directory for the recipe, metrics, checkpoints and logs"));
            RunMetrics metrics = RunSession.Execute(recipe, outDirectory);
            AnsiConsole.Write(ResultTables.Matrix(metrics, "accuracy (%) after each task (rows) on each task (columns)"));
            AnsiConsole.Write(ResultTables.Summary([(recipe.Method + (recipe.Migu is null ? string.Empty : "+MIGU"), metrics)]));
            AnsiConsole.MarkupLine($"run store: [blue]{Markup.Escape(Path.GetFullPath(outDirectory))}[/] (report: migu report {Markup.Escape(outDirectory)})");
            return 0;
        }));
        return command;
    }
}
