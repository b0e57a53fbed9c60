using System.CommandLine;
using System.Globalization;
using System.Text.Json;
using System.Text.Json.Nodes;
using Migu.Cli.Run;
using Migu.Core.Distributed;
using Migu.Core.Runtime;
using Spectre.Console;
using static TorchSharp.torch;

namespace Migu.Cli.Commands;

/// <summary>
/// <c>migu dist-check</c>: joins the job that launched it (mpirun, srun, --nproc, torchrun; alone it is
/// a job of one), checks every collective data-parallel training uses against values each rank can
/// predict, and measures all-reduce bandwidth. Rank 0 prints the result for all ranks; the exit code
/// is 1 when any check failed on any rank.
/// </summary>
internal static class DistCheckCommand
{
    public static Command Create()
    {
        var device = new Option<string>("--device") { Description = "cpu, cuda or auto: NCCL on GPUs, MPI on the CPU", DefaultValueFactory = _ => "auto" };
        var megabytes = new Option<int>("--size-mb") { Description = "All-reduce size for the bandwidth figure", DefaultValueFactory = _ => 64 };
        var iterations = new Option<int>("--iterations") { Description = "Timed all-reduces", DefaultValueFactory = _ => 20 };
        var json = new Option<bool>("--json") { Description = "Print the result as one JSON object" };
        var command = new Command("dist-check", "Check the collectives (all-reduce, broadcast, all-gather, barrier) of a launched job and measure all-reduce bandwidth")
        {
            device, megabytes, iterations, json, LocalLauncher.CreateOption(),
        };
        command.SetAction(parse => CliErrors.Run(parse, () =>
            Execute(parse.GetValue(device)!, parse.GetValue(megabytes), parse.GetValue(iterations), parse.GetValue(json))));
        return command;
    }

    private static int Execute(string deviceText, int megabytes, int iterations, bool json)
    {
        if (megabytes < 1 || iterations < 1)
        {
            throw new Migu.Core.MiguUserException("--size-mb and --iterations must be at least 1");
        }

        LaunchInfo launch = LaunchInfo.FromEnvironment() ?? new LaunchInfo { Rank = 0, WorldSize = 1, LocalRank = 0, Launcher = LauncherKind.Env };
        int gpus = cuda.is_available() ? cuda.device_count() : 0;
        Device target = TorchRuntime.ParseDevice(ProcessGroups.DeviceFor(launch, deviceText, gpus));
        using IProcessGroup group = ProcessGroups.Create(launch, target);
        try
        {
            IReadOnlyList<CollectiveCheck> checks = CollectiveChecks.Run(group);
            var (seconds, algorithm, bus) = CollectiveChecks.MeasureAllReduce(group, (long)megabytes << 20, iterations);
            var mine = new JsonObject
            {
                ["rank"] = group.Rank,
                ["device"] = target.ToString(),
                ["checks"] = new JsonArray([.. checks.Select(c => (JsonNode)new JsonObject { ["name"] = c.Name, ["passed"] = c.Passed, ["detail"] = c.Detail })]),
            };
            byte[][] all = group.AllGather(JsonSerializer.SerializeToUtf8Bytes(mine));
            JsonNode[] ranks = [.. all.Select(b => JsonNode.Parse(b)!)];
            bool passed = ranks.All(r => r["checks"]!.AsArray().All(c => c!["passed"]!.GetValue<bool>()));
            if (group.Rank == 0)
            {
                var result = new JsonObject
                {
                    ["backend"] = group.Backend,
                    ["library"] = Library(group),
                    ["world_size"] = group.WorldSize,
                    ["launcher"] = LaunchInfo.FromEnvironment()?.Launcher.ToString().ToLowerInvariant() ?? "none",
                    ["passed"] = passed,
                    ["ranks"] = new JsonArray(ranks),
                    ["all_reduce"] = new JsonObject
                    {
                        ["bytes"] = (long)megabytes << 20,
                        ["iterations"] = iterations,
                        ["seconds_per_call"] = seconds,
                        ["algorithm_gbps"] = algorithm,
                        ["bus_gbps"] = bus,
                    },
                };
                if (json)
                {
                    Console.WriteLine(result.ToJsonString());
                }
                else
                {
                    Print(result, ranks);
                }
            }

            return passed ? 0 : 1;
        }
        catch
        {
            group.MarkFailed();
            throw;
        }
    }

    private static string Library(IProcessGroup group) => group switch
    {
        NcclProcessGroup nccl => $"NCCL {nccl.LibraryVersion}",
        MpiProcessGroup mpi => mpi.LibraryVersion.Split('\n')[0].Trim(),
        _ => "none (one process)",
    };

    private static void Print(JsonObject result, JsonNode[] ranks)
    {
        AnsiConsole.MarkupLine(Markup.Escape(
            $"{result["backend"]} ({result["library"]}), {result["world_size"]} rank(s), launcher {result["launcher"]}; devices: {string.Join(", ", ranks.Select(r => $"{r["rank"]}→{r["device"]}"))}"));
        var table = new Table().AddColumn("check").AddColumn("result");
        foreach (JsonNode check in ranks[0]["checks"]!.AsArray().OfType<JsonNode>())
        {
            string name = check["name"]!.GetValue<string>();
            var failing = ranks.Where(r => r["checks"]!.AsArray().Any(c => c!["name"]!.GetValue<string>() == name && !c["passed"]!.GetValue<bool>())).ToList();
            table.AddRow(Markup.Escape(name), failing.Count == 0
                ? "[green]ok on every rank[/]"
                : $"[red]FAILED[/] on rank(s) {string.Join(", ", failing.Select(r => r["rank"]))}: {Markup.Escape(FailDetail(failing[0], name))}");
        }

        JsonNode bandwidth = result["all_reduce"]!;
        table.AddRow(
            Markup.Escape($"all-reduce {bandwidth["bytes"]!.GetValue<long>() >> 20} MiB fp32 × {bandwidth["iterations"]}"),
            Markup.Escape(string.Create(CultureInfo.InvariantCulture,
                $"{bandwidth["seconds_per_call"]!.GetValue<double>() * 1e3:F2} ms per call, algorithm {bandwidth["algorithm_gbps"]!.GetValue<double>():F1} GB/s, bus {bandwidth["bus_gbps"]!.GetValue<double>():F1} GB/s")));
        AnsiConsole.Write(table);
    }

    private static string FailDetail(JsonNode rank, string name) =>
        rank["checks"]!.AsArray().First(c => c!["name"]!.GetValue<string>() == name)!["detail"]!.GetValue<string>();
}
