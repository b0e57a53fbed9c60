using System.Diagnostics;

namespace Migu.Distributed.Tests;

/// <summary>Runs a program (dotnet with a built assembly, mpirun) and captures its output and exit code.</summary>
internal static class ChildProcess
{
    /// <summary>One thread per rank keeps the CPU tests fast and their sums in a fixed order.</summary>
    public static readonly IReadOnlyDictionary<string, string> QuietEnvironment = new Dictionary<string, string>
    {
        ["OMP_NUM_THREADS"] = "1",
    };

    public static (int ExitCode, string Stdout, string Stderr) Run(string program, IEnumerable<string> args, IReadOnlyDictionary<string, string>? environment = null)
    {
        var start = new ProcessStartInfo(program)
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        foreach (var (name, value) in QuietEnvironment.Concat(environment ?? new Dictionary<string, string>()))
        {
            start.Environment[name] = value;
        }

        using var process = Process.Start(start)!;
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"{program} {string.Join(' ', args)} did not finish in 5 minutes");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>An assembly built beside the tests, run by dotnet.</summary>
    public static (int ExitCode, string Stdout, string Stderr) Dotnet(string assembly, params string[] args) =>
        Run("dotnet", [Path.Combine(AppContext.BaseDirectory, assembly), .. args]);
}
