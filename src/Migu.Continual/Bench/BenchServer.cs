using System.Globalization;
using System.Runtime.InteropServices;
using System.Text.Json.Nodes;
using Migu.Core;
using Migu.Core.Runtime;

namespace Migu.Continual.Bench;

/// <summary>
/// <c>migu bench --serve</c>: builds one case and then runs blocks of steps on request, one JSON line
/// per request on the output, so a driver can interleave it with another process (the PyTorch
/// reference) on the same device, block by block, with both models resident: A B A B … without
/// rebuilding either. Requests, one per input line:
/// <c>block MODE LEVERS WARMUP STEPS</c> (MODE off, gradient or update; LEVERS a
/// <see cref="PerformanceLevers.Parse"/> spec) and <c>quit</c>. A request that cannot be read, or a
/// block that libtorch fails, is answered with an <c>error</c> line and the server waits for the next one.
/// </summary>
public static class BenchServer
{
    public static void Serve(BenchCase c, TextReader input, TextWriter output)
    {
        ArgumentNullException.ThrowIfNull(c);
        ArgumentNullException.ThrowIfNull(input);
        ArgumentNullException.ThrowIfNull(output);
        string name = $"{c.Model}-{c.Method}";
        using var session = new BenchSession(c);
        Write(output, new JsonObject
        {
            ["ready"] = true,
            ["stack"] = "migu.net",
            ["case"] = name,
            ["pid"] = Environment.ProcessId,
            ["params"] = session.Params,
            ["trainable"] = session.Trainable,
            ["tokens_per_step"] = session.TokensPerStep,
            ["dtype"] = session.Dtype,
            ["device"] = session.Device,
            ["build_levers"] = PerformanceLevers.On(session.DeviceType).ToString(),
            ["torchsharp"] = TorchRuntime.TorchSharpVersion,
        });
        int blocks = 0;
        while (input.ReadLine() is string line)
        {
            string[] words = line.Split(' ', StringSplitOptions.RemoveEmptyEntries);
            if (words.Length == 0)
            {
                continue;
            }

            if (words[0] == "quit")
            {
                Write(output, new JsonObject { ["done"] = true, ["case"] = name, ["blocks"] = blocks });
                return;
            }

            try
            {
                if (words[0] != "block" || words.Length != 5)
                {
                    throw new MiguUserException($"expected 'block MODE LEVERS WARMUP STEPS' or 'quit', got '{line}'");
                }

                MiguMode? mode = words[1] switch
                {
                    "off" => null,
                    "gradient" => MiguMode.Gradient,
                    "update" => MiguMode.Update,
                    _ => throw new MiguUserException($"MODE '{words[1]}' is not off, gradient or update"),
                };
                PerformanceLevers levers = PerformanceLevers.Parse(words[2], session.DeviceType);
                int warmup = Count(words[3], "WARMUP", 0);
                int steps = Count(words[4], "STEPS", 1);
                long rssBefore = ProcessMemory.ResetPeak();
                BenchBlock block = session.RunBlock(mode, levers, warmup, steps);
                blocks++;
                var reply = new JsonObject
                {
                    ["stack"] = "migu.net",
                    ["case"] = name,
                    ["block"] = blocks,
                    ["migu"] = words[1],
                    ["levers"] = levers.ToString(),
                    ["median_ms"] = block.MedianMs,
                    ["step_ms"] = new JsonArray([.. block.StepMs.Select(t => (JsonNode)t)]),
                    ["loss"] = block.Loss,
                };
                if (!session.IsCuda)
                {
                    reply["rss_peak_growth_gib"] = Math.Round((ProcessMemory.Peak() - rssBefore) / (double)(1L << 30), 3);
                }

                Write(output, reply);
            }
            catch (MiguUserException e)
            {
                Write(output, new JsonObject { ["error"] = e.Message, ["case"] = name });
            }
            catch (ExternalException e)
            {
                // libtorch's errors (an out-of-memory, a kernel a lever needs missing on this device) end
                // that block, not the server: the other blocks of the run are still worth measuring.
                session.ZeroGrad();
                Write(output, new JsonObject { ["error"] = e.Message.Split('\n')[0], ["torch"] = true, ["case"] = name });
            }
        }
    }

    private static int Count(string text, string what, int min) =>
        int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) && n >= min
            ? n
            : throw new MiguUserException($"{what} must be a whole number ≥ {min}, got '{text}'");

    private static void Write(TextWriter output, JsonObject line)
    {
        output.WriteLine(line.ToJsonString());
        output.Flush();
    }
}
