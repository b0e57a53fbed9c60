using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Migu.Cli.Run;
using Migu.Continual.Evaluation;
using Migu.Continual.Recipes;
using Migu.Continual.Runs;
using Migu.Continual.Training;
using Migu.Core;
using Migu.Core.IO;
using Migu.Core.Lora;
using Migu.Core.Runtime;
using Migu.Models;
using Migu.Models.Adapters;
using Migu.Models.Tokenizers;
using Spectre.Console;
using static TorchSharp.torch;

namespace Migu.Cli.Commands;

/// <summary><c>migu eval</c>: scores one checkpoint (optionally with PEFT adapters) on tasks, as a run scores after each task.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var adapters = new Option<string[]>("--adapter") { Description = "PEFT adapter directory to attach (repeat: summed, as IncLoRA)" };
        var output = new Option<string>("--out") { Description = "JSON file for the scores", Required = true };
        var flags = new RecipeFlags(OptionScopes.Eval, new Recipe(), required: "--model");
        var command = new Command("eval", "Score a checkpoint on tasks (accuracy and macro-F1 per task)")
        {
            adapters, output,
        };
        flags.AddTo(command);
        command.SetAction(parse => CliErrors.Run(parse, () =>
        {
            string outFile = OutPath.File(parse.GetValue(output)!);
            Recipe recipe = flags.Apply(parse, new Recipe());
            IReadOnlyList<LoadedTask> loaded = RunTasks.Load(recipe);
            Device target = TorchRuntime.ParseDevice(recipe.Device);
            var (m, tokenizer) = ModelLoader.LoadWithTokenizer(recipe.Model, null, target);
            using LanguageModel owned = m;
            LoraAdapters? lora = null;
            string[] adapterDirs = parse.GetValue(adapters) ?? [];
            for (int i = 0; i < adapterDirs.Length; i++)
            {
                if (lora is null)
                {
                    lora = PeftAdapterFiles.Attach(m, adapterDirs[i], $"a{i + 1}");
                }
                else
                {
                    PeftAdapterFiles.Load(lora, adapterDirs[i], $"a{i + 1}");
                }
            }

            try
            {
                Func<LoadedTask, IReadOnlyList<string>> answer = m.Family.Generates
                    ? GenerativeAnswers(m, tokenizer, recipe, target, loaded)
                    : ClassifierAnswers(m, tokenizer, recipe, target, adapterDirs.Length > 0);
                var results = new JsonArray();
                var table = new Table().AddColumn("task").AddColumn(new TableColumn("n").RightAligned()).AddColumn(new TableColumn("accuracy %").RightAligned()).AddColumn(new TableColumn("macro-F1 %").RightAligned());
                double sum = 0;
                foreach (LoadedTask task in loaded)
                {
                    IReadOnlyList<string> answers = answer(task);
                    TaskScore score = TaskScore.Of(answers, [.. task.Test.Select(p => p.Target)], task.Labels);
                    sum += score.Accuracy;
                    results.Add(new JsonObject { ["task"] = task.Name, ["n"] = score.Count, ["accuracy"] = score.Accuracy, ["macro_f1"] = score.MacroF1 });
                    table.AddRow(Markup.Escape(task.Name), score.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), Run.ResultTables.Percent(score.Accuracy), Run.ResultTables.Percent(score.MacroF1));
                }

                var report = new JsonObject
                {
                    ["model"] = recipe.Model,
                    ["adapters"] = new JsonArray([.. adapterDirs.Select(a => (JsonNode)JsonValue.Create(a)!)]),
                    ["eval"] = recipe.Eval.Mode.ToString().ToLowerInvariant(),
                    ["tasks"] = results,
                    ["mean_accuracy"] = sum / loaded.Count,
                };
                AtomicFile.WriteAllText(outFile, report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
                AnsiConsole.Write(table);
                Console.WriteLine($"mean accuracy {100 * sum / loaded.Count:F1} % → {outFile}");
                return 0;
            }
            finally
            {
                lora?.Dispose();
            }
        }));
        return command;
    }

    private static Func<LoadedTask, IReadOnlyList<string>> GenerativeAnswers(LanguageModel model, ITextTokenizer tokenizer, Recipe recipe, Device device, IReadOnlyList<LoadedTask> tasks)
    {
        var encoder = new ExampleEncoder(tokenizer, model.Family, recipe.Training.MaxSourceLength, recipe.Training.MaxTargetLength);
        var predictor = new TaskPredictor(model, encoder, recipe.Eval, device);
        foreach (LoadedTask task in tasks)
        {
            predictor.CheckLabels(task.Name, task.Labels); // before scoring anything
        }

        return task => predictor.Predict([.. task.Test.Select(p => p.Prompt)], task.Labels);
    }

    /// <summary>An encoder classifier (a run's task checkpoint) answers with the arg-max over all its labels, as the run scored it.</summary>
    private static Func<LoadedTask, IReadOnlyList<string>> ClassifierAnswers(LanguageModel model, ITextTokenizer tokenizer, Recipe recipe, Device device, bool adapters)
    {
        if (model.ClassLabels is not { } labels)
        {
            throw new MiguUserException($"{recipe.Model}: a {model.Family.Name} encoder without a classification head has no answers to score; give a classifier checkpoint (a full fine-tuning run's checkpoints/task-NN-name)");
        }

        if (adapters)
        {
            throw new MiguUserException("--adapter with an encoder classifier: the head trained with the adapters (head.safetensors) is not attached by eval; score a full fine-tuning checkpoint");
        }

        int length = (int)Math.Min(recipe.Training.MaxSourceLength, model.MaxPositions ?? long.MaxValue);
        TextFraming framing = model.Family.Framing(tokenizer);
        return task =>
        {
            var data = new ClassificationData([.. task.Test.Select(ClassificationTasks.TextOf)], null, labels, tokenizer, framing, length);
            IReadOnlyDictionary<int, string> answers = data.Predict(model, labels, recipe.Eval.Batch, device);
            return [.. Enumerable.Range(0, data.Count).Select(i => answers[i])];
        };
    }
}
