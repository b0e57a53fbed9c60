using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
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
using Spectre.Console;
using static TorchSharp.torch;

namespace Migu.Cli.Commands;

/// <summary><c>migu eval</c>: scores one checkpoint (optionally with PEFT adapters) on tasks, as a run scores after each task.</summary>
internal static class EvalCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Checkpoint directory (with tokenizer files), cached hub id ORG/NAME[@REV], or preset", Required = true };
        var adapters = new Option<string[]>("--adapter") { Description = "PEFT adapter directory to attach (repeat: summed, as IncLoRA)" };
        var data = new Option<string?>("--data") { Description = "Task data root (default: the embedded demo stream)" };
        var tasks = new Option<string?>("--tasks") { Description = "Dataset names or task paths, comma-separated (default: the data's default order)" };
        var textField = new Option<string?>("--text-field") { Description = "Key or column holding the text (default: sentence, or text)" };
        var labelField = new Option<string?>("--label-field") { Description = "Key or column holding the label (default: label)" };
        var order = new Option<int?>("--order") { Description = "One of the papers' task orders, 1–6" };
        var mode = new Option<string>("--eval") { Description = "generate (exact match) or rank (label likelihood)", DefaultValueFactory = _ => "generate" };
        var maxTest = new Option<int?>("--max-test") { Description = "Scored examples per task at most (stratified, seeded)" };
        var batch = new Option<int>("--eval-batch") { DefaultValueFactory = _ => 32 };
        var maxSource = new Option<int>("--max-source-len") { DefaultValueFactory = _ => 512 };
        var maxTarget = new Option<int>("--max-target-len") { DefaultValueFactory = _ => 50 };
        var split = new Option<string>("--split") { Description = "test or dev", DefaultValueFactory = _ => "test" };
        var seed = new Option<long>("--seed") { Description = "Seed of the --max-test sample", DefaultValueFactory = _ => 42 };
        var device = new Option<string>("--device") { DefaultValueFactory = _ => "cpu" };
        var output = new Option<string>("--out") { Description = "JSON file for the scores", Required = true };
        var command = new Command("eval", "Score a checkpoint on tasks (accuracy and macro-F1 per task)")
        {
            model, adapters, data, tasks, textField, labelField, order, mode, maxTest, batch, maxSource, maxTarget, split, seed, device, output,
        };
        command.SetAction(parse => CliErrors.Run(parse, () =>
        {
            var recipe = new Recipe
            {
                Data = parse.GetValue(data),
                Tasks = parse.GetValue(tasks)?.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries),
                Order = parse.GetValue(order),
                Model = parse.GetValue(model)!,
                DataOptions = new DataSettings { MaxTest = parse.GetValue(maxTest), TextField = parse.GetValue(textField), LabelField = parse.GetValue(labelField) },
                Eval = new EvalSettings { Mode = Run.RecipeFlags.ParseEnum<EvalMode>(parse.GetValue(mode)!, "--eval"), Batch = parse.GetValue(batch), Split = parse.GetValue(split)! },
                Seed = parse.GetValue(seed),
            };
            IReadOnlyList<LoadedTask> loaded = RunTasks.Load(recipe);
            Device target = TorchRuntime.ParseDevice(parse.GetValue(device)!);
            var (m, tokenizer) = RunModel.Create(recipe.Model, null, target);
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
                var encoder = new ExampleEncoder(tokenizer, m.Family, parse.GetValue(maxSource), parse.GetValue(maxTarget));
                var predictor = new TaskPredictor(m, encoder, recipe.Eval, target);
                var results = new JsonArray();
                var table = new Table().AddColumn("task").AddColumn(new TableColumn("n").RightAligned()).AddColumn(new TableColumn("accuracy %").RightAligned()).AddColumn(new TableColumn("macro-F1 %").RightAligned());
                double sum = 0;
                foreach (LoadedTask task in loaded)
                {
                    var answers = predictor.Predict([.. task.Test.Select(p => p.Prompt)], task.Labels);
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
                AtomicFile.WriteAllText(parse.GetValue(output)!, report.ToJsonString(new JsonSerializerOptions { WriteIndented = true }));
                AnsiConsole.Write(table);
                Console.WriteLine($"mean accuracy {100 * sum / loaded.Count:F1} % → {parse.GetValue(output)}");
                return 0;
            }
            finally
            {
                lora?.Dispose();
            }
        }));
        return command;
    }
}
