using System.CommandLine;
using Migu.Cli;
using Migu.Cli.Commands;

var root = new RootCommand("migu: continual learning for language models with MIGU (magnitude-based gradient updating)");
root.Options.Add(CliErrors.VerboseOption);
root.Subcommands.Add(InfoCommand.Create());
root.Subcommands.Add(MagnitudesCommand.Create());
root.Subcommands.Add(GenerateCommand.Create());
root.Subcommands.Add(TokenizerCommand.Create());
root.Subcommands.Add(PretrainCommand.Create());
root.Subcommands.Add(ReportCommand.Create());
return root.Parse(args).Invoke();
