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
root.Subcommands.Add(DemoCommand.Create());
root.Subcommands.Add(RunCommand.Create());
root.Subcommands.Add(ReportCommand.Create());
root.Subcommands.Add(AnalyzeCommand.Create());
root.Subcommands.Add(BenchCommand.Create());
return root.Parse(args).Invoke();
