using System.Diagnostics;
using System.Globalization;
using System.Net;
using System.Net.Sockets;
using System.Reflection;
using System.Runtime.InteropServices;
using System.CommandLine;
using Migu.Core.Distributed;

namespace Migu.Cli.Run;

/// <summary>
/// <c>--nproc N</c>: starts N copies of this migu command on this machine as one data-parallel job,
/// the way torchrun does: each child gets RANK, WORLD_SIZE, LOCAL_RANK, LOCAL_WORLD_SIZE and a
/// MASTER_ADDR/MASTER_PORT rendezvous for NCCL, and takes the GPU of its rank. Rank 0 keeps the
/// terminal; the others' standard output is dropped (their errors still show). When one rank fails
/// the others are stopped, since they would wait for it forever in a collective. It is handled
/// before the command line is parsed, so it works for every verb that joins a job.
/// </summary>
internal static class LocalLauncher
{
    public const string Flag = "--nproc";

    private static readonly string[] Verbs = ["run", "dist-check"];

    /// <summary>Seconds the other ranks get to report their own error after one failed.</summary>
    private static readonly TimeSpan Grace = TimeSpan.FromSeconds(5);

    /// <summary>The option as the verbs declare it, for their help text (its value is handled here).</summary>
    public static Option<int?> CreateOption() => new(Flag)
    {
        Description = "Start N processes on this machine as one data-parallel job, one GPU each (NCCL); several CPU processes need mpirun -np N instead",
    };

    /// <summary>
    /// When <paramref name="args"/> ask a job verb for <c>--nproc N</c>, runs the N ranks and returns true
    /// with the job's exit code (the first failing rank's, else 0); otherwise returns false.
    /// </summary>
    public static bool TryLaunch(string[] args, out int exitCode)
    {
        exitCode = 0;
        string? verb = args.FirstOrDefault(a => !a.StartsWith('-'));
        int at = Array.FindIndex(args, a => a == Flag || a.StartsWith(Flag + "=", StringComparison.Ordinal));
        if (verb is null || !Verbs.Contains(verb) || at < 0)
        {
            return false;
        }

        string? text = args[at] == Flag ? args.ElementAtOrDefault(at + 1) : args[at][(Flag.Length + 1)..];
        if (!int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int n) || n < 1 || n > 1024)
        {
            exitCode = Fail($"{Flag} needs a number of processes from 1 to 1024, got '{text}'");
            return true;
        }

        if (LaunchInfo.FromEnvironment() is { } launch)
        {
            exitCode = Fail($"{Flag} was given to a process that a launcher already started (rank {launch.Rank} of {launch.WorldSize}); use one or the other");
            return true;
        }

        string[] rest = [.. args.Take(at), .. args.Skip(at + (args[at] == Flag ? 2 : 1))];
        exitCode = Launch(rest, n);
        return true;
    }

    private static int Launch(string[] args, int n)
    {
        string address = Environment.GetEnvironmentVariable("MASTER_ADDR") is { Length: > 0 } a ? a : "127.0.0.1";
        string port = Environment.GetEnvironmentVariable("MASTER_PORT") is { Length: > 0 } p ? p : FreePort().ToString(CultureInfo.InvariantCulture);
        var ranks = new List<Process>();
        using var forwardInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => Forward(context, ranks, Signal.Interrupt));
        using var forwardTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context => Forward(context, ranks, Signal.Terminate));
        try
        {
            for (int rank = 0; rank < n; rank++)
            {
                ranks.Add(Start(args, rank, n, address, port));
            }

            return Wait(ranks);
        }
        finally
        {
            foreach (Process process in ranks)
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }

                process.Dispose();
            }
        }
    }

    private static Process Start(string[] args, int rank, int n, string address, string port)
    {
        var start = new ProcessStartInfo(Environment.ProcessPath ?? throw new InvalidOperationException("no path for this process"))
        {
            UseShellExecute = false,
            RedirectStandardOutput = rank != 0,
        };
        // Under `dotnet migu.dll` the host is dotnet and the program its first argument.
        if (Path.GetFileNameWithoutExtension(start.FileName) == "dotnet" && Assembly.GetEntryAssembly()?.Location is { Length: > 0 } entry)
        {
            start.ArgumentList.Add(entry);
        }

        foreach (string a in args)
        {
            start.ArgumentList.Add(a);
        }

        start.Environment["RANK"] = rank.ToString(CultureInfo.InvariantCulture);
        start.Environment["LOCAL_RANK"] = rank.ToString(CultureInfo.InvariantCulture);
        start.Environment["WORLD_SIZE"] = n.ToString(CultureInfo.InvariantCulture);
        start.Environment["LOCAL_WORLD_SIZE"] = n.ToString(CultureInfo.InvariantCulture);
        start.Environment["MASTER_ADDR"] = address;
        start.Environment["MASTER_PORT"] = port;
        Process process = Process.Start(start) ?? throw new InvalidOperationException($"rank {rank} did not start");
        if (rank != 0)
        {
            process.OutputDataReceived += (_, _) => { }; // drained, not shown: rank 0 speaks for the job
            process.BeginOutputReadLine();
        }

        return process;
    }

    /// <summary>Waits for every rank; after the first failure the rest get a grace period, then are stopped.</summary>
    private static int Wait(List<Process> ranks)
    {
        var pending = ranks.ToDictionary(p => p.WaitForExitAsync(), p => p);
        int code = 0;
        DateTime? deadline = null;
        while (pending.Count > 0)
        {
            TimeSpan wait = deadline is { } d ? d - DateTime.UtcNow : Timeout.InfiniteTimeSpan;
            if (deadline is not null && wait <= TimeSpan.Zero)
            {
                foreach (Process stuck in pending.Values)
                {
                    stuck.Kill(entireProcessTree: true);
                }

                break;
            }

            Task finished = Task.WhenAny(pending.Keys).Wait(wait) ? pending.Keys.First(t => t.IsCompleted) : Task.CompletedTask;
            if (!pending.Remove(finished, out Process? process))
            {
                continue; // the grace period ran out; the loop stops the rest
            }

            if (process.ExitCode != 0 && code == 0)
            {
                code = process.ExitCode;
                deadline = DateTime.UtcNow + Grace;
            }
        }

        return code;
    }

    private static void Forward(PosixSignalContext context, List<Process> ranks, Signal signal)
    {
        context.Cancel = true; // the launcher waits for its ranks to stop (at a checkpoint) instead of dying first
        foreach (Process process in ranks.Where(p => !p.HasExited))
        {
            _ = Kill(process.Id, (int)signal);
        }
    }

    private static int FreePort()
    {
        using var probe = new TcpListener(IPAddress.Loopback, 0);
        probe.Start();
        return ((IPEndPoint)probe.LocalEndpoint).Port;
    }

    private static int Fail(string message)
    {
        Console.Error.WriteLine($"error: {message}");
        return CliErrors.UserError;
    }

    [DllImport("libc.so.6", EntryPoint = "kill", SetLastError = true)]
    private static extern int Kill(int pid, int signal);

    private enum Signal
    {
        Interrupt = 2,
        Terminate = 15,
    }
}
