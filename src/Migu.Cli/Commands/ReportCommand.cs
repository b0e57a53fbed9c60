using System.CommandLine;
using Migu.Core;
using Migu.Reports.Charts;
using Migu.Reports.Writing;

namespace Migu.Cli.Commands;

/// <summary>
/// <c>migu report</c>: report.md, figures and a summary table from run directories, or from folders
/// that hold runs (the demo's output, a sweep's root), searched for them (never trains).
/// </summary>
internal static class ReportCommand
{
    public static Command Create()
    {
        // Zero or more, so that "no run directory" is our one-line error with exit code 2, not a parse error.
        var runs = new Argument<string[]>("RUN_DIR") { Description = "Run directories written by the runner (recipe.json, metrics.json, loss.csv), or folders to search for them", Arity = ArgumentArity.ZeroOrMore };
        var output = new Option<string>("--out") { Description = "Directory for report.md and its figures/", DefaultValueFactory = _ => "report" };
        var format = new Option<string>("--format") { Description = "Image format: png or svg", DefaultValueFactory = _ => "png" };
        var command = new Command("report", "Write report.md with tables and figures (accuracy matrices, per-task curves, comparison over seeds, threshold sweeps, loss) from run directories")
        {
            runs, output, format,
        };
        command.SetAction(parse => CliErrors.Run(parse, () =>
        {
            string[] dirs = parse.GetValue(runs) ?? [];
            if (dirs.Length == 0)
            {
                throw new MiguUserException("no run directory given: migu report RUN_DIR... [--out DIR] [--format png|svg]");
            }

            var options = new ReportOptions
            {
                OutDirectory = OutPath.Directory(parse.GetValue(output)!),
                Format = ReportImageFormats.Parse(parse.GetValue(format)!),
            };
            ReportResult result = ReportGenerator.Write(dirs, options);
            ReportSummary.Print(result);
            return 0;
        }));
        return command;
    }
}
