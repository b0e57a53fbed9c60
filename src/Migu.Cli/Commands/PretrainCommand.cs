using System.CommandLine;
using System.Globalization;
using Migu.Cli.Run;
using Migu.Continual.Pretraining;
using Migu.Continual.Recipes;
using Migu.Continual.Runs;
using Migu.Core;
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
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Preset (roberta-mini, t5-mini, llama-mini, …), or a checkpoint directory or cached hub id ORG/NAME[@REV] to continue", Required = true };
        var corpus = new Option<string>("--corpus") { Description = "Text file (a document a line), JSON Lines (text field), a CL_Benchmark split or dataset folder, or a folder of such files", Required = true };
        var output = new Option<string>("--out") { Description = "Directory for the checkpoint and the run's records (an existing run of the same settings is resumed)", Required = true };
        var objective = new Option<string>("--objective") { Description = "auto (the family's own), mlm (RoBERTa), span (T5) or causal (Llama)", DefaultValueFactory = _ => "auto" };
        var steps = new Option<int?>("--steps") { Description = "Optimizer steps (default: one pass over the corpus)" };
        var seqLen = new Option<int>("--seq-len") { Description = "Tokens per packed sequence", DefaultValueFactory = _ => 128 };
        var batch = new Option<int>("--batch") { Description = "Sequences per optimizer step", DefaultValueFactory = _ => 16 };
        var lr = new Option<double>("--lr") { Description = "Peak learning rate (linear warm-up, then linear decay)", DefaultValueFactory = _ => 5e-4 };
        var warmup = new Option<double>("--warmup") { Description = "Warm-up fraction of the steps", DefaultValueFactory = _ => 0.05 };
        var tokenizer = new Option<string?>("--tokenizer") { Description = "Tokenizer directory or cached hub id (default: the checkpoint's, or the embedded compact-2k for presets)" };
        var checkpointEvery = new Option<int>("--checkpoint-every") { Description = "Resumable checkpoint every N steps (0 = only at the end)", DefaultValueFactory = _ => 100 };
        var maxDocuments = new Option<int?>("--max-documents") { Description = "Train on at most this many documents (a seeded sample)" };
        var seed = new Option<long>("--seed") { Description = "Seed of the initialisation, data order and masks", DefaultValueFactory = _ => 42 };
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto", DefaultValueFactory = _ => "cpu" };
        var command = new Command("pretrain", "Pre-train a model from scratch (or continue a checkpoint) on a text corpus; saves a Hugging Face checkpoint")
        {
            model, corpus, output, objective, steps, seqLen, batch, lr, warmup, tokenizer, checkpointEvery, maxDocuments, seed, device,
        };
        command.SetAction(parse => CliErrors.Run(parse, () =>
        {
            string corpusPath = Path.GetFullPath(parse.GetValue(corpus)!);
            string outDirectory = Path.GetFullPath(parse.GetValue(output)!);
            string modelName = HubCache.Resolve(parse.GetValue(model)!);
            if (PretrainingModel.IsCheckpoint(modelName) && Path.GetFullPath(modelName).TrimEnd('/') == outDirectory.TrimEnd('/'))
            {
                throw new MiguUserException("--out must be another directory than the --model checkpoint it continues");
            }

            var recipe = new Recipe
            {
                Model = PretrainingModel.IsCheckpoint(modelName) ? Path.GetFullPath(modelName) : modelName,
                Tokenizer = parse.GetValue(tokenizer) is string t ? Path.GetFullPath(HubCache.Resolve(t)) : null,
                Training = new TrainingSettings
                {
                    Lr = parse.GetValue(lr),
                    Batch = parse.GetValue(batch),
                    Schedule = LrSchedule.Linear,
                    WarmupRatio = parse.GetValue(warmup),
                    WeightDecay = 0.01,
                    CheckpointEvery = parse.GetValue(checkpointEvery),
                },
                Pretrain = new PretrainSettings
                {
                    Objective = RecipeFlags.ParseEnum<PretrainObjective>(parse.GetValue(objective)!, "--objective"),
                    SeqLen = parse.GetValue(seqLen),
                    Steps = parse.GetValue(steps),
                    Corpora = [new CorpusSpec { Name = TextCorpus.NameOf(corpusPath), Path = corpusPath }],
                    MaxDocuments = parse.GetValue(maxDocuments),
                },
                Seed = parse.GetValue(seed),
                Device = parse.GetValue(device)!,
            };
            return Pretrain(recipe, outDirectory);
        }));
        return command;
    }

    private static int Pretrain(Recipe recipe, string outDirectory)
    {
        string domain = recipe.Pretrain!.Corpora![0].Name;
        try
        {
            ObservedRun.Execute((observer, cancel) => new ContinualPretrainingRunner(recipe, [], outDirectory, observer).Run(cancel));
        }
        catch (OperationCanceledException)
        {
            Console.Error.WriteLine($"interrupted; a checkpoint is in {outDirectory}: run the same command again to resume");
            return ObservedRun.Interrupted;
        }

        string checkpoint = RunStore.Open(outDirectory, recipe).TaskCheckpoint(0, domain);
        PretrainedExport.Export(checkpoint, outDirectory);
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
