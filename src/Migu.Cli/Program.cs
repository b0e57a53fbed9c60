using System.CommandLine;
using Migu.Cli;
using Migu.Cli.Commands;
using Migu.Cli.Run;

// --nproc N starts N ranks of this same command line (data parallelism on one machine).
if (LocalLauncher.TryLaunch(args, out int launchedExitCode))
{
    return launchedExitCode;
}

RankConsole.QuietUnlessMain();

var root = new RootCommand("migu: continual learning for language models with MIGU (magnitude-based gradient updating)");
root.Options.Add(CliErrors.VerboseOption);
root.Subcommands.Add(InfoCommand.Create());
root.Subcommands.Add(DistCheckCommand.Create());
root.Subcommands.Add(MagnitudesCommand.Create());
root.Subcommands.Add(GenerateCommand.Create());
root.Subcommands.Add(TokenizerCommand.Create());
root.Subcommands.Add(ImportCommand.Create());
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(EvalCommand.Create());
root.Subcommands.Add(SweepCommand.Create());
root.Subcommands.Add(PretrainCommand.Create());
root.Subcommands.Add(ReportCommand.Create());
root.Subcommands.Add(AnalyzeCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
ParseResult parsed = root.Parse(args);
if (parsed.Errors.Count > 0 && !args.Contains("--help") && !args.Contains("-h") && !args.Contains("-?"))
{
    // A command line the parser rejects is a user error like any other: one line, exit code 2.
    Console.Error.WriteLine($"error: {CliErrors.Describe(parsed)}");
    return CliErrors.UserError;
}

return parsed.Invoke();
