using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Migu.Continual.Recipes;
using Migu.Continual.Training;
using Migu.Core;
using Migu.Core.IO;
using TorchSharp.Modules;

namespace Migu.Continual.Runs;

/// <summary>
/// The run directory, the contract between the runner, reports and the CLI: recipe.json (the
/// resolved recipe), metrics.json (rows of finished tasks; the commit point of a task),
/// loss.csv, run.log, TensorBoard events/, and checkpoints/ (one per task, plus mid/ while a
/// task is under way). Every file a reader may open is written atomically. In a data-parallel job
/// rank 0 alone writes; the other ranks open the store for reading, and its writes do nothing there.
/// The writing store holds the directory's lock (<see cref="DirectoryLock"/>) until disposed, so a
/// second run on the same directory is refused instead of interleaving its files with the first's.
/// </summary>
public sealed class RunStore : IDisposable
{
    public const string RecipeFile = "recipe.json";
    public const string MetricsFile = "metrics.json";
    public const string LossFile = "loss.csv";
    public const string LogFile = "run.log";
    public const string LossHeader = "step,task_index,task,epoch,loss,lr,tokens,seconds";

    private static readonly JsonSerializerOptions MetricsJson = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        WriteIndented = true,
    };

    private readonly DirectoryLock? held;

    private RunStore(string root, bool writes, DirectoryLock? held = null)
    {
        Root = root;
        Writes = writes;
        this.held = held;
    }

    public string Root { get; }

    /// <summary>Whether this process writes the store (false on data-parallel ranks other than 0).</summary>
    public bool Writes { get; }

    public string RecipePath => Path.Combine(Root, RecipeFile);

    public string MetricsPath => Path.Combine(Root, MetricsFile);

    public string LossPath => Path.Combine(Root, LossFile);

    public string LogPath => Path.Combine(Root, LogFile);

    public string EventsDirectory => Path.Combine(Root, "events");

    public string CheckpointsDirectory => Path.Combine(Root, "checkpoints");

    /// <summary>Where a mid-task checkpoint lives while a task is under way.</summary>
    public string MidTaskDirectory => Path.Combine(CheckpointsDirectory, "mid");

    /// <summary>The checkpoint after task <paramref name="taskIndex"/> (0-based): checkpoints/task-01-agnews, …</summary>
    public string TaskCheckpoint(int taskIndex, string taskName) =>
        Path.Combine(CheckpointsDirectory, $"task-{taskIndex + 1:00}-{SafeName(taskName)}");

    /// <summary>
    /// Opens <paramref name="directory"/> for <paramref name="recipe"/> and locks it: a new or empty
    /// directory gets recipe.json; one that holds the same recipe (device aside) is resumed; a
    /// different recipe, a directory another run holds, a non-empty directory without a run and a
    /// path that is a file are refused, with nothing written. Dispose the store to let the lock go.
    /// </summary>
    public static RunStore Open(string directory, Recipe recipe)
    {
        string root = Path.GetFullPath(directory);
        if (File.Exists(root))
        {
            throw new MiguUserException($"{root} is a file; a run needs a directory (give another --out)");
        }

        RefuseForeignContents(root); // before the lock creates anything
        DirectoryLock held = DirectoryLock.Acquire(root);
        try
        {
            var store = new RunStore(root, writes: true, held);
            if (File.Exists(store.RecipePath))
            {
                Recipe existing = RecipeJson.Load(store.RecipePath);
                string? difference = FirstDifference(Identity(existing), Identity(recipe), "$");
                if (difference is not null)
                {
                    throw new MiguUserException(
                        $"{store.Root} holds a run of a different recipe ({difference}); use another --out, or delete the directory to start over");
                }
            }
            else
            {
                RefuseForeignContents(root); // again under the lock: another process may have written meanwhile
                Writing(store.RecipePath, () => AtomicFile.WriteAllText(store.RecipePath, RecipeJson.Serialize(recipe)));
            }

            return store;
        }
        catch
        {
            held.Dispose();
            throw;
        }
    }

    /// <summary>The store as a data-parallel rank other than 0 sees it: read, never written.</summary>
    public static RunStore OpenForReading(string directory) => new(Path.GetFullPath(directory), writes: false);

    /// <summary>Lets the directory's lock go (a reading store holds none).</summary>
    public void Dispose() => held?.Dispose();

    /// <summary>The metrics of the finished tasks, or null before the first.</summary>
    public RunMetrics? ReadMetrics() => File.Exists(MetricsPath) ? ReadMetrics(MetricsPath) : null;

    public static RunMetrics ReadMetrics(string path)
    {
        try
        {
            return JsonSerializer.Deserialize<RunMetrics>(File.ReadAllText(path), MetricsJson)
                ?? throw new MiguUserException($"{path}: empty metrics");
        }
        catch (JsonException e)
        {
            throw new MiguUserException($"{path}: not valid metrics JSON ({e.Message.Split('\n')[0]})", e);
        }
    }

    public void WriteMetrics(RunMetrics metrics)
    {
        if (Writes)
        {
            Writing(MetricsPath, () => AtomicFile.WriteAllText(MetricsPath, SerializeMetrics(metrics)));
        }
    }

    public static string SerializeMetrics(RunMetrics metrics) => JsonSerializer.Serialize(metrics, MetricsJson);

    /// <summary>Appends one optimizer step to loss.csv (header first when the file is new).</summary>
    public void AppendLoss(long globalStep, StepRecord step, string taskName, double seconds)
    {
        if (!Writes)
        {
            return;
        }

        string line = string.Join(',',
            globalStep.ToString(CultureInfo.InvariantCulture),
            step.TaskIndex.ToString(CultureInfo.InvariantCulture),
            taskName,
            step.Epoch.ToString(CultureInfo.InvariantCulture),
            (step.Loss + step.ExtraLoss).ToString("R", CultureInfo.InvariantCulture),
            step.Lr.ToString("R", CultureInfo.InvariantCulture),
            step.Tokens.ToString(CultureInfo.InvariantCulture),
            seconds.ToString("F3", CultureInfo.InvariantCulture));
        Writing(LossPath, () =>
        {
            using var file = new FileStream(LossPath, FileMode.Append, FileAccess.Write);
            long before = file.Length;
            byte[] bytes = Encoding.UTF8.GetBytes((before == 0 ? LossHeader + "\n" : string.Empty) + line + "\n");
            try
            {
                file.Write(bytes);
                file.Flush();
            }
            catch (IOException)
            {
                file.SetLength(before); // no half row for a resumed run to read; shrinking needs no space
                throw;
            }
        });
    }

    /// <summary>Drops loss rows from global step <paramref name="fromStep"/> on (steps a resumed run repeats).</summary>
    public void TruncateLoss(long fromStep)
    {
        if (!Writes || !File.Exists(LossPath))
        {
            return;
        }

        var kept = File.ReadAllLines(LossPath)
            .Where((line, i) => i == 0 || long.Parse(line.AsSpan(0, line.IndexOf(',', StringComparison.Ordinal)), CultureInfo.InvariantCulture) < fromStep);
        Writing(LossPath, () => AtomicFile.WriteAllText(LossPath, string.Join('\n', kept) + "\n"));
    }

    /// <summary>Appends a time-stamped line to run.log.</summary>
    public void Log(string message)
    {
        if (Writes)
        {
            Writing(LogPath, () => File.AppendAllText(LogPath, $"{DateTime.UtcNow:yyyy-MM-ddTHH:mm:ssZ} {message}\n", new UTF8Encoding(false)));
        }
    }

    /// <summary>
    /// Writes a directory whole or not at all: <paramref name="write"/> fills a fresh <c>TARGET.tmp</c>
    /// (a stale one from a stopped run is removed first), which then replaces <paramref name="target"/>.
    /// A run stopped while writing still finds the previous directory whole; a write that fails
    /// removes its temp directory (a full disk gets its space back) and is a <see cref="Writing"/> error.
    /// </summary>
    public static void WriteDirectory(string target, Action<string> write)
    {
        ArgumentNullException.ThrowIfNull(write);
        string temp = target + ".tmp";
        Writing(target, () =>
        {
            if (Directory.Exists(temp))
            {
                Directory.Delete(temp, recursive: true);
            }

            Directory.CreateDirectory(temp);
            try
            {
                write(temp);
            }
            catch
            {
                Directory.Delete(temp, recursive: true);
                throw;
            }

            CommitDirectory(temp, target);
        });
    }

    /// <summary>
    /// Runs one write of the store to <paramref name="path"/>. A full disk becomes one user error
    /// naming the path: every file a run reads back is written to a temp name and renamed, so the
    /// previous checkpoint and metrics.json are still whole, and running again resumes from them.
    /// </summary>
    public static void Writing(string path, Action write)
    {
        ArgumentNullException.ThrowIfNull(write);
        try
        {
            write();
        }
        catch (IOException e) when (IsDiskFull(e))
        {
            throw new MiguUserException($"{path}: no space left on the device; the run stopped at its last checkpoint, free some space and run it again to resume", e);
        }
    }

    /// <summary>ENOSPC (Linux, macOS: .NET puts errno in HResult) or Windows' disk-full errors.</summary>
    private static bool IsDiskFull(IOException e) => e.HResult is 28 or unchecked((int)0x80070070) or unchecked((int)0x80070027);

    /// <summary>Moves a fully written directory into place (replacing an older one), so a reader never sees half a checkpoint.</summary>
    public static void CommitDirectory(string temp, string target)
    {
        if (Directory.Exists(target))
        {
            string old = target + ".old";
            if (Directory.Exists(old))
            {
                Directory.Delete(old, recursive: true);
            }

            Directory.Move(target, old);
            Directory.Move(temp, target);
            Directory.Delete(old, recursive: true);
        }
        else
        {
            Directory.Move(temp, target);
        }
    }

    /// <summary>A directory with files but no recipe.json is not a run store: writing one into it would mix a run with whatever it holds.</summary>
    private static void RefuseForeignContents(string root)
    {
        if (!File.Exists(Path.Combine(root, RecipeFile)) && Directory.Exists(root)
            && Directory.EnumerateFileSystemEntries(root).Any(e => Path.GetFileName(e) != DirectoryLock.FileName))
        {
            throw new MiguUserException($"{root} is not empty and holds no {RecipeFile}; refusing to write a run into it");
        }
    }

    /// <summary>The recipe as it identifies a run: the device may change between a run and its resumption.</summary>
    private static JsonNode Identity(Recipe recipe) => JsonNode.Parse(RecipeJson.Serialize(recipe with { Device = "any" }))!;

    /// <summary>The first place where two JSON trees differ, as "path: old → new"; null when equal.</summary>
    internal static string? FirstDifference(JsonNode? a, JsonNode? b, string path)
    {
        if (a is JsonObject oa && b is JsonObject ob)
        {
            foreach (string key in oa.Select(p => p.Key).Union(ob.Select(p => p.Key)).Order(StringComparer.Ordinal))
            {
                string? d = FirstDifference(oa[key], ob[key], $"{path}.{key}");
                if (d is not null)
                {
                    return d;
                }
            }

            return null;
        }

        if (a is JsonArray aa && b is JsonArray ab && aa.Count == ab.Count)
        {
            for (int i = 0; i < aa.Count; i++)
            {
                string? d = FirstDifference(aa[i], ab[i], $"{path}[{i}]");
                if (d is not null)
                {
                    return d;
                }
            }

            return null;
        }

        string sa = a?.ToJsonString() ?? "absent";
        string sb = b?.ToJsonString() ?? "absent";
        return sa == sb ? null : $"{path}: {sa} in the run, {sb} now";
    }

    private static string SafeName(string name) =>
        new([.. name.Select(c => char.IsLetterOrDigit(c) || c is '-' or '_' or '.' ? c : '_')]);
}

/// <summary>Scalars for TensorBoard (events/ of the run store), through TorchSharp's event writer.</summary>
public sealed class TensorBoardLog(string directory) : IDisposable
{
    private readonly SummaryWriter writer = TorchSharp.torch.utils.tensorboard.SummaryWriter(directory, createRunName: false);

    public void Scalar(string tag, double value, long step) =>
        RunStore.Writing(directory, () => writer.add_scalar(tag, (float)value, (int)Math.Min(step, int.MaxValue)));

    public void Dispose()
    {
        // SummaryWriter flushes each event as it is written and holds no native resources.
    }
}
