using System.CommandLine;
using System.Globalization;
using Migu.Cli.Run;
using Migu.Continual.Pretraining;
using Migu.Continual.Recipes;
using Migu.Continual.Runs;
using Migu.Core;
using Migu.Core.IO;
using Migu.Models;
using Migu.Models.Checkpoints;
using Spectre.Console;

namespace Migu.Cli.Commands;

/// <summary>
/// <c>migu pretrain --model PRESET|DIR --corpus FILE|DIR --out DIR</c>: pre-trains a preset from
/// scratch (or continues a checkpoint) on one corpus with the family's objective, and leaves a
/// Hugging Face checkpoint (config.json, model.safetensors, tokenizer files) in DIR, which migu and
/// transformers load. DIR is also the run store: running the same command again resumes.
/// </summary>
internal static class PretrainCommand
{
    /// <summary>What pre-training one corpus means when no flag says otherwise: linear warm-up then decay, AdamW with weight decay, a checkpoint every 100 steps.</summary>
    public static Recipe Defaults { get; } = new()
    {
        Training = new TrainingSettings { Lr = 5e-4, Batch = 16, Schedule = LrSchedule.Linear, WarmupRatio = 0.05, WeightDecay = 0.01, CheckpointEvery = 100 },
        Pretrain = new PretrainSettings(),
    };

    public static Command Create()
    {
        var corpus = new Option<string>("--corpus") { Description = "Text file (a document a line), JSON Lines (text field), a CL_Benchmark split or dataset folder, or a folder of such files", Required = true };
        var output = new Option<string>("--out") { Description = "Directory for the checkpoint and the run's records (an existing run of the same settings is resumed)", Required = true };
        var flags = new RecipeFlags(OptionScopes.Pretrain, Defaults, required: "--model");
        var command = new Command("pretrain", "Pre-train a model from scratch (or continue a checkpoint) on a text corpus; saves a Hugging Face checkpoint")
        {
            corpus, output,
        };
        flags.AddTo(command);
        command.SetAction(parse => CliErrors.Run(parse, () =>
        {
            string corpusPath = Path.GetFullPath(parse.GetValue(corpus)!);
            string outDirectory = Path.GetFullPath(OutPath.Directory(parse.GetValue(output)!));
            Recipe recipe = flags.Apply(parse, Defaults);
            recipe = recipe with { Model = HubCache.Resolve(recipe.Model) }; // a cached hub id continues its snapshot
            bool continues = ModelCheckpoint.IsCheckpointDirectory(recipe.Model);
            if (continues && Path.GetFullPath(recipe.Model).TrimEnd('/') == outDirectory.TrimEnd('/'))
            {
                throw new MiguUserException("--out must be another directory than the --model checkpoint it continues");
            }

            recipe = recipe with
            {
                Model = continues ? Path.GetFullPath(recipe.Model) : recipe.Model,
                Tokenizer = recipe.Tokenizer is string t ? Path.GetFullPath(HubCache.Resolve(t)) : null,
                Pretrain = recipe.Pretrain! with { Corpora = [new CorpusSpec { Name = TextCorpus.NameOf(corpusPath), Path = corpusPath }] },
            };
            return Pretrain(recipe, outDirectory);
        }));
        return command;
    }

    private static int Pretrain(Recipe recipe, string outDirectory)
    {
        string domain = recipe.Pretrain!.Corpora![0].Name;
        using (DirectoryLock.Acquire(outDirectory)) // the run and the export into its directory, as one holder
        {
            ObservedRun.Execute(outDirectory, (observer, cancel) => new ContinualPretrainingRunner(recipe, [], outDirectory, observer).Run(cancel));
            PretrainedExport.Export(RunStore.OpenForReading(outDirectory).TaskCheckpoint(0, domain), outDirectory);
        }

        PretrainingReport? report = PretrainingReport.Read(Path.Combine(outDirectory, PretrainingReport.FileName));
        if (report is { HeldOutLoss.Count: > 0 } && report.HeldOutLoss[0][0] is double after)
        {
            string before = report.HeldOutLossBaseline?[0] is double b ? b.ToString("F3", CultureInfo.InvariantCulture) + " → " : string.Empty;
            AnsiConsole.MarkupLine($"held-out {Markup.Escape(report.Objective)} loss on {Markup.Escape(domain)}: {before}[bold]{after.ToString("F3", CultureInfo.InvariantCulture)}[/]");
        }

        AnsiConsole.MarkupLine($"checkpoint: [blue]{Markup.Escape(outDirectory)}[/] (config.json, model.safetensors, tokenizer files)");
        return 0;
    }
}
