using System.CommandLine;
using System.Reflection;
using Migu.Core.Runtime;
using Spectre.Console;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Cli.Commands;

/// <summary><c>migu info</c>: versions, devices, and a matrix product that proves the native runtime works.</summary>
internal static class InfoCommand
{
    public static Command Create()
    {
        var device = new Option<string>("--device") { Description = "cpu, cuda, cuda:N or auto", DefaultValueFactory = _ => "auto" };
        var command = new Command("info", "Print versions, the torch device, and check that libtorch runs") { device };
        command.SetAction(parse => CliErrors.Run(parse, () => Execute(parse.GetValue(device)!)));
        return command;
    }

    /// <summary>The package version (what migu --version prints) and the commit it was built from, shortened.</summary>
    private static string VersionText()
    {
        string informational = Assembly.GetExecutingAssembly().GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion ?? "?";
        string[] parts = informational.Split('+', 2);
        return parts.Length == 2 ? $"{parts[0]} (commit {parts[1][..Math.Min(12, parts[1].Length)]})" : informational;
    }

    private static int Execute(string deviceText)
    {
        Device target = TorchRuntime.ParseDevice(deviceText);
        var table = new Table().AddColumn("component").AddColumn("value");
        table.AddRow("Migu.NET", Markup.Escape(VersionText()));
        table.AddRow(".NET", Markup.Escape(Environment.Version.ToString()));
        table.AddRow("TorchSharp", Markup.Escape(TorchRuntime.TorchSharpVersion));
        table.AddRow("libtorch", Markup.Escape(TorchRuntime.LibTorchVersion));
        table.AddRow("CUDA", cuda.is_available() ? $"yes, {cuda.device_count()} device(s)" : "no");
        table.AddRow("CPU threads", get_num_threads().ToString(System.Globalization.CultureInfo.InvariantCulture));
        table.AddRow("device", Markup.Escape(target.ToString()));

        using (var scope = NewDisposeScope())
        {
            // A checkable product: (A·Aᵀ) of a fixed matrix has a known trace, Σ a_ij².
            Tensor a = arange(0, 64 * 64, dtype: ScalarType.Float32, device: target).reshape(64, 64).div_(4096f);
            double trace = a.matmul(a.T).trace().item<float>();
            double expected = a.square().sum().item<float>();
            string verdict = Math.Abs(trace - expected) <= 1e-3 * expected ? "[green]ok[/]" : "[red]WRONG[/]";
            table.AddRow("matmul check", $"{verdict} (trace {trace:F3})");
        }

        AnsiConsole.Write(table);
        return 0;
    }
}
