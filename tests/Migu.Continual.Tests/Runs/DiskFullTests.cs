using System.Diagnostics;
using System.Security.Cryptography;
using Migu.Continual.Recipes;
using Migu.Continual.Runs;
using Migu.Continual.Training;
using Migu.Core;

namespace Migu.Continual.Tests.Runs;

/// <summary>
/// A disk that fills up under a run, on the real file-system path: the run store lives on a small
/// tmpfs the test mounts (as root, as CI runs), and a filler file takes all the space but a chosen
/// amount just before the write under test. The run must stop with one user error naming the path
/// and "no space left", leave the previous checkpoint and metrics.json whole (and no temp files),
/// and, once space is free again, a rerun must resume to the uninterrupted run's result.
/// </summary>
public sealed class DiskFullTests : IDisposable
{
    private const long Page = 4096; // tmpfs allocates whole pages

    private readonly string root = Directory.CreateTempSubdirectory("migu-diskfull").FullName;
    private string? mounted;

    public enum FullAt
    {
        /// <summary>The mid-task checkpoint after step 2 of the second task (the one after step 1 is committed).</summary>
        MidTaskCheckpoint,

        /// <summary>The second task's checkpoint, after its last step.</summary>
        TaskCheckpoint,

        /// <summary>metrics.json after the second task (its checkpoint and predictions are written).</summary>
        Metrics,
    }

    public void Dispose()
    {
        if (mounted is not null)
        {
            Tmpfs.Unmount(mounted);
        }

        Directory.Delete(root, recursive: true);
    }

    [TmpfsTheory]
    [InlineData(FullAt.MidTaskCheckpoint)]
    [InlineData(FullAt.TaskCheckpoint)]
    [InlineData(FullAt.Metrics)]
    public void A_full_disk_stops_the_run_in_one_user_error_keeps_the_last_commit_whole_and_the_rerun_resumes_to_the_same_result(FullAt where)
    {
        var recipe = new Recipe
        {
            Tasks = ["colors", "animals"],
            Model = "llama-tiny",
            Method = "ft",
            Training = new TrainingSettings { Lr = 3e-3, Batch = 4, MaxSourceLength = 64, MaxTargetLength = 8, CheckpointEvery = 1 },
            Eval = new EvalSettings { Mode = EvalMode.Rank, Batch = 16 },
            Seed = 3,
        };
        string whole = Path.Combine(root, "whole");
        RunMetrics expected = new ContinualRunner(recipe, SyntheticTasks.Two(train: 16, test: 4), whole).Run();
        long storeBytes = Directory.GetFiles(whole, "*", SearchOption.AllDirectories).Sum(f => new FileInfo(f).Length);
        string firstCheckpoint = Path.Combine(whole, "checkpoints", "task-01-colors");
        long checkpointBytes = Directory.GetFiles(Path.Combine(whole, "checkpoints", "task-02-animals")).Sum(f => new FileInfo(f).Length);
        long predictionPages = Pages(new FileInfo(Path.Combine(whole, "predictions", "after-02-animals.jsonl")).Length);

        // Room for the store and, at their peak, two mid-task checkpoints (each the weights and AdamW's
        // two moments) while one replaces the other, with a margin: the filler, not the size, decides
        // where the disk is full.
        string disk = Path.Combine(root, "disk");
        Directory.CreateDirectory(disk);
        Tmpfs.Mount(disk, Pages((2 * storeBytes) + (8 * checkpointBytes)) * Page);
        mounted = disk;
        string run = Path.Combine(disk, "run");
        string filler = Path.Combine(disk, "filler");

        // The space left when the disk fills: half a checkpoint (a mid-task one holds the weights and
        // AdamW's two moments, more still), or just the new predictions file, so that metrics.json is
        // the first write that finds no page.
        var fill = new FillAt(where, () => FillAllBut(disk, filler, where == FullAt.Metrics ? predictionPages * Page : checkpointBytes / 2));
        var error = Assert.Throws<MiguUserException>(() => new ContinualRunner(recipe, SyntheticTasks.Two(train: 16, test: 4), run, fill).Run());

        string failedPath = where switch
        {
            FullAt.MidTaskCheckpoint => Path.Combine(run, "checkpoints", "mid"),
            FullAt.TaskCheckpoint => Path.Combine(run, "checkpoints", "task-02-animals"),
            _ => Path.Combine(run, RunStore.MetricsFile),
        };
        Assert.Equal($"{failedPath}: no space left on the device; the run stopped at its last checkpoint, free some space and run it again to resume", error.Message);
        Assert.True(fill.Filled);

        // What was committed before is whole: metrics.json with the first task's row, its checkpoint
        // byte for byte, the mid-task checkpoint of step 1 (mid-task case), and no temp file or directory.
        RunMetrics kept = RunStore.ReadMetrics(Path.Combine(run, RunStore.MetricsFile));
        Assert.Equal([expected.AccuracyMatrix[0]], kept.AccuracyMatrix);
        Assert.Equal(Hashes(firstCheckpoint), Hashes(Path.Combine(run, "checkpoints", "task-01-colors")));
        Assert.Empty(Directory.GetFileSystemEntries(run, "*.tmp", SearchOption.AllDirectories));
        Assert.Empty(Directory.GetFileSystemEntries(run, "*.old", SearchOption.AllDirectories));
        if (where == FullAt.MidTaskCheckpoint)
        {
            Assert.Equal(1, MidTaskState.Read(Path.Combine(run, "checkpoints", "mid"))!.Step);
        }

        Assert.Equal(where == FullAt.Metrics, Directory.Exists(Path.Combine(run, "checkpoints", "task-02-animals")));

        // Space freed: the rerun resumes and ends where the uninterrupted run ended.
        File.Delete(filler);
        RunMetrics resumed = new ContinualRunner(recipe, SyntheticTasks.Two(train: 16, test: 4), run).Run();
        Assert.Equal(expected.AccuracyMatrix, resumed.AccuracyMatrix);
        Assert.Equal(expected.MacroF1Matrix, resumed.MacroF1Matrix);
        Assert.Equal(LossColumns(whole), LossColumns(run));
        Assert.Equal(Hashes(Path.Combine(whole, "checkpoints", "task-02-animals")), Hashes(Path.Combine(run, "checkpoints", "task-02-animals")));
    }

    private static long Pages(long bytes) => (bytes + Page - 1) / Page;

    /// <summary>Writes real zeros (a sparse file takes no pages) until only <paramref name="leave"/> bytes are free.</summary>
    private static void FillAllBut(string disk, string filler, long leave)
    {
        long free = new DriveInfo(disk).AvailableFreeSpace;
        Assert.True(free > leave, $"the tmpfs has {free} bytes free, fewer than the {leave} to leave");
        byte[] chunk = new byte[1 << 20];
        using var file = new FileStream(filler, FileMode.CreateNew, FileAccess.Write);
        for (long left = free - leave; left > 0; left -= chunk.Length)
        {
            file.Write(chunk, 0, (int)Math.Min(chunk.Length, left));
        }

        file.Flush();
        Assert.InRange(new DriveInfo(disk).AvailableFreeSpace, 0, leave);
    }

    private static Dictionary<string, string> Hashes(string directory) =>
        Directory.GetFiles(directory, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(directory, f), f => Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(f))), StringComparer.Ordinal);

    private static string[] LossColumns(string dir) =>
        [.. File.ReadAllLines(Path.Combine(dir, RunStore.LossFile)).Select(l => string.Join(',', l.Split(',')[..7]))];

    /// <summary>Fills the disk at the moment of <see cref="FullAt"/>, once.</summary>
    private sealed class FillAt(FullAt where, Action fill) : IRunObserver
    {
        private int phase = -1;

        public bool Filled { get; private set; }

        public void TrainingStarted(int index, int count, string name, int totalSteps, int startStep) => phase = index;

        public void StepDone(StepRecord step, double tokensPerSecond)
        {
            bool now = where switch
            {
                FullAt.MidTaskCheckpoint => step.TaskIndex == 1 && step.Step == 1, // the commit after step 2 follows
                FullAt.TaskCheckpoint => step.TaskIndex == 1 && step.Step == step.TotalSteps - 1,
                _ => false,
            };
            Fill(now);
        }

        public void EvaluationStarted(string title, int prompts)
        {
        }

        public void EvaluationProgress(int prompts)
        {
        }

        public void EvaluationFinished() => Fill(where == FullAt.Metrics && phase == 1);

        public void PhaseFinished(int index, RunMetrics metrics)
        {
        }

        public void Info(string message)
        {
        }

        private void Fill(bool now)
        {
            if (now && !Filled)
            {
                fill();
                Filled = true;
            }
        }
    }
}

/// <summary>Mounting a small tmpfs: root only (CI runs as root); elsewhere the tests that need one are skipped.</summary>
internal static class Tmpfs
{
    private static readonly Lazy<string?> Missing = new(Probe);

    /// <summary>Why no tmpfs can be mounted here, or null when one can.</summary>
    public static string? Unavailable => Missing.Value;

    public static void Mount(string directory, long bytes) =>
        Run("mount", $"-t tmpfs -o size={bytes},mode=0700 tmpfs {directory}");

    /// <summary>Unmounts, lazily if a file is still open, so that the directory can be removed.</summary>
    public static void Unmount(string directory)
    {
        if (Run("umount", directory, check: false) != 0)
        {
            Run("umount", $"-l {directory}");
        }
    }

    private static string? Probe()
    {
        if (!OperatingSystem.IsLinux() || Environment.UserName != "root")
        {
            return "mounting a tmpfs to fill the disk needs root on Linux (CI runs as root); run the tests as root to include the disk-full tests";
        }

        string probe = Directory.CreateTempSubdirectory("migu-tmpfs-probe").FullName;
        try
        {
            if (Run("mount", $"-t tmpfs -o size=65536 tmpfs {probe}", check: false) != 0)
            {
                return "mount -t tmpfs failed (a container without CAP_SYS_ADMIN?); the disk-full tests need to mount a small tmpfs";
            }

            Unmount(probe);
            return null;
        }
        finally
        {
            Directory.Delete(probe);
        }
    }

    private static int Run(string program, string arguments, bool check = true)
    {
        using var process = Process.Start(new ProcessStartInfo(program, arguments) { RedirectStandardError = true, RedirectStandardOutput = true })!;
        string error = process.StandardError.ReadToEnd();
        process.WaitForExit();
        if (check && process.ExitCode != 0)
        {
            throw new InvalidOperationException($"{program} {arguments}: exit {process.ExitCode}: {error}");
        }

        return process.ExitCode;
    }
}

/// <summary>A theory that mounts a tmpfs; skipped, saying why, where that is not possible.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class TmpfsTheoryAttribute : TheoryAttribute
{
    public TmpfsTheoryAttribute()
    {
        if (Tmpfs.Unavailable is string reason)
        {
            Skip = reason;
        }
    }
}
