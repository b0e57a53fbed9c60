using System.Collections.Concurrent;
using System.Globalization;
using System.Text;
using Migu.Core;

namespace Migu.Continual.Tests.Fuzz;

/// <summary>
/// One loader to fuzz: how to lay out its fixture files in an empty folder, which of them is mutated,
/// how many cases a run makes, and the load itself (given the folder). Adding a loader is one line
/// in <see cref="LoaderFuzzTests.Targets"/>.
/// </summary>
internal sealed record FuzzTarget(string Name, Action<string> Setup, string Mutated, FileKind Kind, int Cases, Action<string> Load);

/// <summary>
/// Runs a target's cases: each case's bytes come from a seed derived from the run seed, the target's
/// name and the case number, so any case can be rerun alone. A case passes when the load succeeds or
/// ends in one <see cref="MiguUserException"/> (the families' own user errors derive from it) whose
/// message is one line; it fails on any other exception, on running past the time limit, or on
/// allocating more managed memory than the bound (a multiple of what the intact fixture takes).
/// Native (libtorch) allocations are not counted here; the loaders refuse sizes before allocating them.
/// </summary>
internal static class FuzzCampaign
{
    /// <summary>Rough guard for a hang; a case normally takes milliseconds.</summary>
    public static readonly TimeSpan TimeLimit = TimeSpan.FromSeconds(20);

    private const long AllocationFloor = 64L << 20;
    private const int AllocationFactor = 32;

    public static FuzzReport Run(FuzzTarget target, ulong seed, double scale, int? onlyCase)
    {
        string workspace = Directory.CreateTempSubdirectory("migu-fuzz").FullName;
        using var runner = new CaseRunner();
        try
        {
            target.Setup(workspace);
            string mutatedPath = Path.Combine(workspace, target.Mutated);
            byte[] original = File.ReadAllBytes(mutatedPath);
            List<byte[]> donors = [.. Directory.EnumerateFiles(workspace, "*", SearchOption.AllDirectories)
                .Where(f => f != mutatedPath).Order(StringComparer.Ordinal).Select(File.ReadAllBytes)];

            var baseline = runner.Run(() => target.Load(workspace), TimeLimit);
            if (!baseline.Finished || baseline.Error is not null)
            {
                throw new InvalidOperationException($"{target.Name}: the intact fixture does not load: {baseline.Error?.Message ?? "timed out"}", baseline.Error);
            }

            var report = new FuzzReport(target.Name, baseline.Allocated);
            int cases = onlyCase is null ? Math.Max(1, (int)Math.Round(target.Cases * scale)) : 1;
            for (int n = 0; n < cases; n++)
            {
                int index = onlyCase ?? n;
                var mutator = new Mutator(CaseSeed(seed, target.Name, index), donors);
                var (bytes, what) = mutator.Mutate(original, target.Kind);
                File.WriteAllBytes(mutatedPath, bytes);
                var outcome = runner.Run(() => target.Load(workspace), TimeLimit);
                long bound = AllocationFloor + (AllocationFactor * baseline.Allocated * Math.Max(1, bytes.Length / Math.Max(1, original.Length)));
                string? problem = Judge(outcome, bound);
                report.Add(index, what, outcome.Error, problem, outcome.Allocated);
                if (!outcome.Finished)
                {
                    break; // the worker is stuck in that case; nothing after it can run
                }
            }

            return report;
        }
        finally
        {
            if (runner.Idle)
            {
                Directory.Delete(workspace, recursive: true);
            }
        }
    }

    /// <summary>The seed of case <paramref name="index"/> of <paramref name="target"/> (FNV-1a of the name, mixed by SplitMix64).</summary>
    public static ulong CaseSeed(ulong seed, string target, int index)
    {
        ulong hash = 14695981039346656037UL;
        foreach (byte b in Encoding.UTF8.GetBytes(target))
        {
            hash = unchecked((hash ^ b) * 1099511628211UL);
        }

        return new Migu.Continual.Data.SplitMix64(seed ^ hash ^ ((ulong)index << 32)).NextUInt64();
    }

    private static string? Judge(CaseRunner.Outcome outcome, long bound)
    {
        if (!outcome.Finished)
        {
            return $"still running after {TimeLimit.TotalSeconds:0} s";
        }

        if (outcome.Allocated > bound)
        {
            return string.Create(CultureInfo.InvariantCulture, $"allocated {outcome.Allocated >> 20} MiB (bound {bound >> 20} MiB)");
        }

        return outcome.Error switch
        {
            null => null,
            MiguUserException e when e.Message.Length > 0 && e.Message.IndexOfAny(['\n', '\r']) < 0 => null,
            MiguUserException e => $"a user error that is not one line: {e.Message}",
            Exception e => $"{e.GetType().Name}: {FirstLine(e.Message)} at {TopFrame(e)}",
        };
    }

    private static string FirstLine(string text) => text.Split('\n')[0].Trim();

    private static string TopFrame(Exception e) =>
        e.StackTrace?.Split('\n').Select(l => l.Trim()).FirstOrDefault(l => l.Contains("Migu.", StringComparison.Ordinal))
        ?? e.StackTrace?.Split('\n')[0].Trim()
        ?? "(no stack)";

    /// <summary>
    /// Runs cases one at a time on its own thread, so a case that never returns can be reported (the
    /// thread is then abandoned) and each case's managed allocations are counted on that thread alone.
    /// </summary>
    private sealed class CaseRunner : IDisposable
    {
        private readonly BlockingCollection<Action> work = [];
        private bool stuck;

        public CaseRunner()
        {
            var thread = new Thread(() =>
            {
                foreach (Action a in work.GetConsumingEnumerable())
                {
                    a();
                }
            })
            { IsBackground = true, Name = "fuzz case" };
            thread.Start();
        }

        /// <summary>False once a case ran past its limit (its files may still be open).</summary>
        public bool Idle => !stuck;

        public Outcome Run(Action load, TimeSpan limit)
        {
            var result = new Outcome();
            var done = new ManualResetEventSlim(); // not disposed: a stuck case may still set it
            work.Add(() =>
            {
                long before = GC.GetAllocatedBytesForCurrentThread();
                try
                {
                    load();
                }
                catch (Exception e)
                {
                    result.Error = e;
                }

                result.Allocated = GC.GetAllocatedBytesForCurrentThread() - before;
                done.Set();
            });
            result.Finished = done.Wait(limit);
            stuck |= !result.Finished;
            return result;
        }

        public void Dispose() => work.CompleteAdding();

        public sealed class Outcome
        {
            public bool Finished { get; set; }

            public Exception? Error { get; set; }

            public long Allocated { get; set; }
        }
    }
}

/// <summary>What a target's run found: counts, and the failing cases grouped by what went wrong.</summary>
internal sealed class FuzzReport(string target, long baselineAllocated)
{
    private readonly Dictionary<string, List<(int Index, string What)>> failures = new(StringComparer.Ordinal);
    private long maxAllocated;

    public int Cases { get; private set; }

    public int Loaded { get; private set; }

    public int UserErrors { get; private set; }

    public int FailureCount => failures.Values.Sum(f => f.Count);

    public void Add(int index, string what, Exception? error, string? problem, long allocated)
    {
        Cases++;
        maxAllocated = Math.Max(maxAllocated, allocated);
        if (problem is not null)
        {
            string key = problem.Length > 300 ? problem[..300] : problem;
            if (!failures.TryGetValue(key, out var list))
            {
                failures[key] = list = [];
            }

            list.Add((index, what));
        }
        else if (error is null)
        {
            Loaded++;
        }
        else
        {
            UserErrors++;
        }
    }

    public string Summary => string.Create(
        CultureInfo.InvariantCulture,
        $"{target}: {Cases} cases: {Loaded} loaded, {UserErrors} user errors, {FailureCount} failures; managed allocation {baselineAllocated >> 10} KiB intact, at most {maxAllocated >> 10} KiB mutated");

    /// <summary>Each distinct failure once, with up to three cases that show it and how to rerun one.</summary>
    public string Describe()
    {
        var text = new StringBuilder(Summary).AppendLine();
        foreach (var (problem, cases) in failures.OrderByDescending(f => f.Value.Count).Take(12))
        {
            text.AppendLine(CultureInfo.InvariantCulture, $"- {problem} ({cases.Count} cases), e.g.");
            foreach (var (index, what) in cases.Take(3))
            {
                text.AppendLine(CultureInfo.InvariantCulture, $"    MIGU_FUZZ_ONLY='{target}#{index}': {what}");
            }
        }

        return text.ToString();
    }
}
