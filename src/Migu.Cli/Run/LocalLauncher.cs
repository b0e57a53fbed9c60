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
        using var job = new Job();
        // Ctrl-C reaches the ranks (they stop together after a checkpoint, however long that takes);
        // SIGTERM (timeout, a scheduler) is passed on, and ranks that do not end within the grace period are killed.
        using var forwardInt = PosixSignalRegistration.Create(PosixSignal.SIGINT, context => job.Forward(context, Signal.Interrupt));
        using var forwardTerm = PosixSignalRegistration.Create(PosixSignal.SIGTERM, context =>
        {
            job.Forward(context, Signal.Terminate);
            job.TerminateBy = DateTime.UtcNow + Grace;
        });
        try
        {
            for (int rank = 0; rank < n; rank++)
            {
                job.Add(Start(args, rank, n, address, port));
            }

            return Wait(job);
        }
        finally
        {
            job.KillAll();
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

    /// <summary>
    /// Waits for every rank. After the first failure (or a SIGTERM) the rest get a grace period, then
    /// are killed: a rank whose peer died would wait in a collective forever.
    /// </summary>
    private static int Wait(Job job)
    {
        var pending = job.Ranks.ToDictionary(p => p.WaitForExitAsync(), p => p);
        int code = 0;
        DateTime? failedBy = null;
        while (pending.Count > 0)
        {
            DateTime? deadline = failedBy is { } f && job.TerminateBy is { } t ? (f < t ? f : t) : failedBy ?? job.TerminateBy;
            if (deadline is { } d && DateTime.UtcNow >= d)
            {
                job.KillAll();
                return code != 0 ? code : 128 + (int)Signal.Terminate;
            }

            Task.WhenAny(pending.Keys).Wait(TimeSpan.FromMilliseconds(200));
            foreach (Task finished in pending.Keys.Where(t => t.IsCompleted).ToList())
            {
                Process process = pending[finished];
                pending.Remove(finished);
                if (process.ExitCode != 0 && code == 0)
                {
                    code = process.ExitCode;
                    failedBy = DateTime.UtcNow + Grace;
                }
            }
        }

        return code;
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

    /// <summary>The ranks of this launch, shared with the signal handlers.</summary>
    private sealed class Job : IDisposable
    {
        private readonly List<Process> ranks = [];
        private readonly Lock gate = new();
        private long terminateTicks;

        public IReadOnlyList<Process> Ranks
        {
            get
            {
                lock (gate)
                {
                    return [.. ranks];
                }
            }
        }

        /// <summary>When the ranks must be gone after a SIGTERM; null before one.</summary>
        public DateTime? TerminateBy
        {
            get => Interlocked.Read(ref terminateTicks) is long t and > 0 ? new DateTime(t, DateTimeKind.Utc) : null;
            set => Interlocked.Exchange(ref terminateTicks, value?.Ticks ?? 0);
        }

        public void Add(Process process)
        {
            lock (gate)
            {
                ranks.Add(process);
            }
        }

        /// <summary>Passes a signal on to the running ranks; the launcher itself keeps waiting for them.</summary>
        public void Forward(PosixSignalContext context, Signal signal)
        {
            context.Cancel = true;
            foreach (Process process in Ranks.Where(p => !p.HasExited))
            {
                _ = Kill(process.Id, (int)signal);
            }
        }

        public void KillAll()
        {
            foreach (Process process in Ranks)
            {
                if (!process.HasExited)
                {
                    process.Kill(entireProcessTree: true);
                }
            }
        }

        public void Dispose()
        {
            KillAll();
            foreach (Process process in Ranks)
            {
                process.Dispose();
            }
        }
    }
}
