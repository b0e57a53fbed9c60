using System.Diagnostics;

namespace Migu.Cli.Tests;

/// <summary>Runs the real migu binary (built beside the tests) and captures its output and exit code.</summary>
internal static class MiguProcess
{
    public static (int ExitCode, string Stdout, string Stderr) Run(params string[] args) => RunWith(new Dictionary<string, string>(), args);

    /// <summary>As <see cref="Run"/>, with <paramref name="environment"/> added to the process's environment.</summary>
    public static (int ExitCode, string Stdout, string Stderr) RunWith(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        using var process = Start(environment, args);
        Task<string> stdout = process.StandardOutput.ReadToEndAsync();
        Task<string> stderr = process.StandardError.ReadToEndAsync();
        if (!process.WaitForExit(TimeSpan.FromMinutes(5)))
        {
            process.Kill(entireProcessTree: true);
            throw new TimeoutException($"migu {string.Join(' ', args)} did not finish in 5 minutes");
        }

        return (process.ExitCode, stdout.Result, stderr.Result);
    }

    /// <summary>Starts migu without waiting (output redirected; the caller reads or kills it). The process's id is the run's: dotnet runs migu.dll in-process.</summary>
    public static Process Start(IReadOnlyDictionary<string, string> environment, params string[] args)
    {
        var start = new ProcessStartInfo("dotnet")
        {
            RedirectStandardOutput = true,
            RedirectStandardError = true,
            UseShellExecute = false,
        };
        foreach (var (name, value) in environment)
        {
            start.Environment[name] = value;
        }

        start.ArgumentList.Add(Path.Combine(AppContext.BaseDirectory, "migu.dll"));
        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        return Process.Start(start)!;
    }
}
