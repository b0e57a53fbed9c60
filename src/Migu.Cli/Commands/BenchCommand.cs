using System.CommandLine;
using System.Text.Json;
using System.Text.Json.Nodes;
using Migu.Continual.Bench;
using Migu.Continual.Recipes;
using Migu.Core;
using Migu.Core.Runtime;
using TorchSharp;

namespace Migu.Cli.Commands;

/// <summary>
/// <c>migu bench</c>: training-step throughput, one JSON line per case with the PyTorch reference
/// script's fields, so both can run in one device command and be compared case by case.
/// </summary>
internal static class BenchCommand
{
    public static Command Create()
    {
        var model = new Option<string?>("--model") { Description = "Preset (t5-large, llama-1b-like, t5-tiny, llama-tiny, …)" };
        var method = new Option<string>("--method") { Description = "ft or lora", DefaultValueFactory = _ => "ft" };
        var migu = new Option<double?>("--migu") { Description = "MIGU threshold T (off when absent)" };
        var mode = new Option<string>("--migu-mode") { Description = "gradient or update", DefaultValueFactory = _ => "gradient" };
        var cases = new Option<string?>("--cases") { Description = "Reference-style list instead of --model/--method/--migu: {preset}-{ft|ftmigu|lora|loramigu},… (llama-1b means llama-1b-like)" };
        var batch = new Option<int>("--batch") { DefaultValueFactory = _ => 8 };
        var src = new Option<int>("--src-len") { Description = "T5 source tokens", DefaultValueFactory = _ => 256 };
        var tgt = new Option<int>("--tgt-len") { Description = "T5 target tokens", DefaultValueFactory = _ => 16 };
        var seq = new Option<int>("--seq-len") { Description = "Decoder-only tokens", DefaultValueFactory = _ => 1024 };
        var steps = new Option<int>("--steps") { Description = "Timed steps (median reported)", DefaultValueFactory = _ => 20 };
        var warmup = new Option<int>("--warmup") { Description = "Untimed steps first", DefaultValueFactory = _ => 5 };
        var dtype = new Option<string>("--dtype") { Description = "bf16 or fp32", DefaultValueFactory = _ => "bf16" };
        var device = new Option<string>("--device") { Description = "cuda, cuda:N or cpu", DefaultValueFactory = _ => "cuda" };
        var threshold = new Option<double>("--threshold") { Description = "MIGU threshold for --cases entries ending in migu", DefaultValueFactory = _ => 0.7 };
        var breakdown = new Option<bool>("--breakdown") { Description = "Also time forward, backward, masking and optimizer apart (adds synchronisations)" };
        var levers = new Option<string?>("--levers")
        {
            Description = "Speed levers: default, none, all, or a list such as none,+fused-adamw (levers: "
                + string.Join(", ", PerformanceLevers.Names.Keys) + "); default: MIGU_LEVERS, else the built-in defaults",
        };
        var serve = new Option<bool>("--serve")
        {
            Description = "Build one case (--model/--method or one --cases entry), then run 'block MODE LEVERS WARMUP STEPS' requests read from stdin, one JSON line each, until 'quit' (tools/gpu_bench_interleaved.py drives it)",
        };
        var command = new Command("bench", "Measure training-step time, tokens/s, MFU and peak memory (JSON lines, comparable with the PyTorch reference)")
        {
            model, method, migu, mode, cases, batch, src, tgt, seq, steps, warmup, dtype, device, threshold, breakdown, levers, serve,
        };
        command.SetAction(parse => CliErrors.Run(parse, () =>
        {
            using IDisposable? leverScope = parse.GetValue(levers) is string spec ? PerformanceLevers.Use(PerformanceLevers.Parse(spec)) : null;
            var template = new BenchCase
            {
                Model = "?",
                Batch = parse.GetValue(batch),
                SourceLength = parse.GetValue(src),
                TargetLength = parse.GetValue(tgt),
                SequenceLength = parse.GetValue(seq),
                Steps = parse.GetValue(steps),
                Warmup = parse.GetValue(warmup),
                Dtype = parse.GetValue(dtype)!,
                Device = parse.GetValue(device)!,
                Breakdown = parse.GetValue(breakdown),
            };
            MiguMode miguMode = RecipeOptions.ParseEnum<MiguMode>(parse.GetValue(mode)!, "--migu-mode");
            List<BenchCase> list = parse.GetValue(cases) is string names
                ? [.. names.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries).Select(n => Parse(n, template, parse.GetValue(threshold), miguMode))]
                : [template with
                {
                    Model = parse.GetValue(model) ?? throw new MiguUserException("give --model PRESET (or --cases)"),
                    Method = parse.GetValue(method)!,
                    Migu = parse.GetValue(migu) is double t ? new MiguOptions { Threshold = t, Mode = miguMode } : null,
                }];
            torch.Device target = TorchRuntime.ParseDevice(template.Device);
            if (parse.GetValue(serve))
            {
                if (list.Count != 1)
                {
                    throw new MiguUserException("--serve builds one case: give --model (with --method) or a single --cases entry");
                }

                BenchServer.Serve(list[0] with { Migu = list[0].Migu ?? new MiguOptions { Threshold = parse.GetValue(threshold) } }, Console.In, Console.Out);
                return 0;
            }

            Console.WriteLine(new JsonObject
            {
                ["migu_net"] = typeof(BenchCommand).Assembly.GetName().Version?.ToString(),
                ["torchsharp"] = TorchRuntime.TorchSharpVersion,
                ["device"] = target.ToString(),
                ["threads"] = torch.get_num_threads(),
                ["levers"] = PerformanceLevers.On(target.type).ToString(),
            }.ToJsonString());
            if (target.type == DeviceType.CUDA)
            {
                using var warm = torch.zeros(1, device: target); // the CUDA context, before the memory baseline
            }

            using GpuMemoryMonitor? memory = target.type == DeviceType.CUDA ? GpuMemoryMonitor.TryStart(target.index < 0 ? 0 : target.index) : null;
            foreach (BenchCase c in list)
            {
                BenchResult result = ThroughputBenchmark.Run(c, memory);
                Console.WriteLine(JsonSerializer.Serialize(result));
            }

            return 0;
        }));
        return command;
    }

    /// <summary>"t5-large-loramigu" → t5-large, lora, MIGU on; "llama-1b" is the llama-1b-like preset.</summary>
    private static BenchCase Parse(string name, BenchCase template, double threshold, MiguMode mode)
    {
        int dash = name.LastIndexOf('-');
        string kind = dash > 0 ? name[(dash + 1)..] : string.Empty;
        if (kind is not ("ft" or "ftmigu" or "lora" or "loramigu"))
        {
            throw new MiguUserException($"--cases: '{name}' does not end in -ft, -ftmigu, -lora or -loramigu");
        }

        string preset = name[..dash] == "llama-1b" ? "llama-1b-like" : name[..dash];
        return template with
        {
            Model = preset,
            Method = kind.StartsWith("lora", StringComparison.Ordinal) ? "lora" : "ft",
            Migu = kind.EndsWith("migu", StringComparison.Ordinal) ? new MiguOptions { Threshold = threshold, Mode = mode } : null,
        };
    }
}
