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
        var adapters = new Option<string[]>("--adapter") { Description = "PEFT adapter directory to attach (repeat: summed, as IncLoRA); for an encoder, a run checkpoint's adapters/NAME folder, whose head is loaded from beside it" };
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
            string[] adapterDirs = parse.GetValue(adapters) ?? [];
            using EvalModel evaluated = EvalModel.Load(recipe.Model, adapterDirs, target);
            LanguageModel m = evaluated.Model;
            Func<LoadedTask, IReadOnlyList<string>> answer = m.Family.Generates
                ? GenerativeAnswers(m, evaluated.Tokenizer, recipe, target, loaded)
                : evaluated.ClassifierAnswers(recipe, target);
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
}
