using System.CommandLine;
using System.Text.Json;
using Migu.Core;
using Migu.Core.IO;
using Migu.Core.Runtime;
using Migu.Models;

namespace Migu.Cli.Commands;

/// <summary><c>migu magnitudes</c>: per-layer MIGU magnitudes and masks of a checkpoint on one batch.</summary>
internal static class MagnitudesCommand
{
    public static Command Create()
    {
        var model = new Option<string>("--model") { Description = "Checkpoint directory (config.json + weights), cached hub id ORG/NAME[@REV], or preset name", Required = true };
        var input = new Option<string>("--input") { Description = "JSON with input_ids, optional attention_mask, and for T5 labels or decoder_input_ids", Required = true };
        var threshold = new Option<double>("--threshold") { Description = "MIGU threshold T in [0, 1)", DefaultValueFactory = _ => 0.7 };
        var output = new Option<string>("--out") { Description = "Where to write the JSON report", Required = true };
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto", DefaultValueFactory = _ => "cpu" };
        var command = new Command("magnitudes", "Record every linear layer's output magnitudes on a batch and the masks MIGU would build")
        {
            model, input, threshold, output, device,
        };
        command.SetAction(parse => CliErrors.Run(parse, () =>
        {
            new MiguOptions { Threshold = parse.GetValue(threshold) }.Validate(); // before loading a large model
            string outPath = OutPath.File(parse.GetValue(output)!);
            string inputPath = parse.GetValue(input)!;
            if (!File.Exists(inputPath))
            {
                throw new MiguUserException($"{inputPath}: not found");
            }

            ModelBatch batch = MagnitudeProbe.ParseBatch(File.ReadAllText(inputPath), inputPath);
            using LanguageModel m = ModelLoader.Load(parse.GetValue(model)!, TorchRuntime.ParseDevice(parse.GetValue(device)!));
            var report = MagnitudeProbe.Run(m, batch, parse.GetValue(threshold));
            AtomicFile.WriteAllText(outPath, report.ToJsonString(new JsonSerializerOptions { WriteIndented = false }));
            Console.WriteLine($"wrote {outPath}: {report["layers"]!.AsObject().Count} layers, loss {report["loss"]?.ToJsonString() ?? "n/a"}");
            return 0;
        }));
        return command;
    }
}
