using Migu.Continual.Recipes;
using Migu.Core;

namespace Migu.Continual.Data;

/// <summary>
/// The datasets under a data root in the CL_Benchmark layout,
/// <c>ROOT/&lt;Type&gt;/&lt;dataset&gt;/{labels.json, train, dev, test}</c>, where each split is one file
/// in JSON (an array of <c>{"sentence", "label"}</c>), JSON Lines, CSV or Parquet
/// (<see cref="TaskFiles"/>); dev and labels.json are optional. Dataset names match
/// case-insensitively; a name with a <c>/</c> in it is a path instead (<see cref="Find"/>). The
/// embedded demo stream (<see cref="Embedded"/>) is a catalog like any other.
/// </summary>
public sealed class TaskCatalog
{
    private readonly ITaskSource source;
    private readonly TaskFields fields;

    private TaskCatalog(ITaskSource source, IReadOnlyList<string>? defaultOrder, DataSettings? options)
    {
        fields = options is null ? TaskFields.Default : TaskFields.From(options);
        this.source = source;
        Tasks = source.Discover();
        if (Tasks.Count == 0)
        {
            throw new MiguUserException($"{source.Root}: no datasets found (expected <Type>/<dataset>/train.json and friends below it)");
        }

        DefaultOrder = defaultOrder;
    }

    /// <summary>The root as messages name it: the directory, or "embedded demo data".</summary>
    public string Root => source.Root;

    /// <summary>Every dataset found, ordered by type then name.</summary>
    public IReadOnlyList<TaskEntry> Tasks { get; }

    /// <summary>The order a run uses when it names neither tasks nor an order; null = it must name one.</summary>
    public IReadOnlyList<string>? DefaultOrder { get; }

    /// <summary>A data root on disk; <paramref name="options"/> name the text and label fields (default sentence/text and label).</summary>
    public static TaskCatalog Open(string root, DataSettings? options = null) => new(new DirectoryTaskSource(root), defaultOrder: null, options);

    /// <summary>
    /// The demo stream shipped in this assembly: agnews, dbpedia (TC), amazon, yelp (SC), sampled
    /// from the shared CL_Benchmark copy (src/Migu.Continual/Data/Demo/PROVENANCE.md). Its default
    /// order is the papers' order 1 with yelp standing in for yahoo.
    /// </summary>
    public static TaskCatalog Embedded(DataSettings? options = null) => new(new EmbeddedTaskSource(), ["dbpedia", "amazon", "yelp", "agnews"], options);

    /// <summary>A recipe's <c>data</c>: a directory, or null for the embedded demo stream; read with the recipe's <c>data_options</c>.</summary>
    public static TaskCatalog ForRecipe(string? data, DataSettings? options = null) => data is null ? Embedded(options) : Open(data, options);

    /// <summary>Whether a task list entry is a path (it has a <c>/</c>) rather than a dataset name.</summary>
    public static bool IsPath(string task)
    {
        ArgumentNullException.ThrowIfNull(task);
        return task.Contains('/', StringComparison.Ordinal) || task.Contains(Path.DirectorySeparatorChar, StringComparison.Ordinal);
    }

    public bool Contains(string name) => Matches(name).Count == 1;

    /// <summary>
    /// The dataset folder named <paramref name="name"/>, compared case-insensitively; or, for a path
    /// (<see cref="IsPath"/>), the task there: a folder is a dataset folder (its name the task's, the
    /// folder above it the type); a file is a task's training split, a name with <c>train</c> in it,
    /// and the task's other files are named like it (<see cref="TaskFiles"/>): <c>exports/sst2-train.csv</c>
    /// is task sst2 of type exports with <c>sst2-test.csv</c> beside it; <c>sst2/train.jsonl</c> is the folder sst2.
    /// </summary>
    public TaskEntry Find(string name)
    {
        if (IsPath(name))
        {
            return PathEntry(name);
        }

        List<TaskEntry> matches = Matches(name);
        return matches.Count switch
        {
            1 => matches[0],
            0 => throw new MiguUserException($"{Root}: no task '{name}'; available: {Available()}"),
            _ => throw new MiguUserException(
                $"{Root}: task '{name}' is in more than one type folder ({string.Join(", ", matches.Select(m => $"{m.Type}/{m.Name}"))}); rename or remove all but one"),
        };
    }

    /// <summary>Reads and checks every file of a task, as it is on disk.</summary>
    public TaskData Load(string name) => Load(Find(name));

    /// <summary>Reads a task and applies the recipe's data options (dev carving, caps) with the run seed.</summary>
    public TaskData Load(string name, DataSettings settings, long seed) => DataPreparation.Apply(Load(name), settings, seed);

    /// <summary>Reads a task and applies the recipe's data options (dev carving, caps) with the run seed.</summary>
    public TaskData Load(TaskEntry entry, DataSettings settings, long seed) => DataPreparation.Apply(Load(entry), settings, seed);

    /// <summary>
    /// Reads and checks every file of a task. Labels are labels.json's; without it, the class names a
    /// Parquet training file carries, else the training split's distinct labels in ordinal order
    /// (<see cref="TaskData.LabelsNote"/> says which). Integer labels are class ids into that list.
    /// </summary>
    public TaskData Load(TaskEntry entry)
    {
        ArgumentNullException.ThrowIfNull(entry);
        ITaskSource files = entry.ByPath ? DirectoryTaskSource.Paths : source;
        string labelsFile = TaskFiles.Name(entry, TaskFiles.Labels, ".json");
        IReadOnlyList<string>? listed = files.Exists(entry, labelsFile)
            ? TaskFileReader.ReadLabels(files.Read(entry, labelsFile), files.Describe(entry, labelsFile))
            : null;
        RawSplit train = ReadSplit(files, entry, TaskFiles.Train) ?? throw MissingSplit(files, entry, TaskFiles.Train);
        RawSplit? dev = ReadSplit(files, entry, "dev");
        RawSplit test = ReadSplit(files, entry, "test") ?? throw MissingSplit(files, entry, "test");
        TaskLabeling labeling = listed is not null ? TaskLabeling.Listed(listed, labelsFile) : TaskLabeling.FromTraining(train);
        return new TaskData
        {
            Name = entry.Name,
            Type = entry.Type,
            Labels = labeling.Labels,
            Train = labeling.Check(train),
            Dev = dev is null ? [] : labeling.Check(dev),
            Test = labeling.Check(test),
            Location = entry.Location,
            LabelsNote = labeling.Note is string note ? $"task {entry.Name}: {note}" : null,
            Entry = entry,
        };
    }

    /// <summary>"agnews (TC), amazon (SC), …", for messages.</summary>
    public string Available() =>
        string.Join(", ", Tasks.OrderBy(t => t.Name, StringComparer.OrdinalIgnoreCase).Select(t => $"{t.Name} ({t.Type})"));

    private static TaskEntry PathEntry(string path)
    {
        string full = Path.TrimEndingDirectorySeparator(Path.GetFullPath(path));
        if (Directory.Exists(full))
        {
            var folder = new DirectoryInfo(full);
            return new TaskEntry(folder.Name, folder.Parent?.Name ?? folder.Name, full) { ByPath = true };
        }

        if (!File.Exists(full))
        {
            throw new MiguUserException($"{path}: no such file or folder (a task named by its path)");
        }

        string stem = Path.GetFileNameWithoutExtension(full);
        int at = stem.LastIndexOf(TaskFiles.Train, StringComparison.Ordinal);
        if (at < 0 || !TaskFiles.Formats.Contains(Path.GetExtension(full), StringComparer.Ordinal))
        {
            throw new MiguUserException(
                $"{path}: a task named by a file is named by its training split, a {string.Join(", ", TaskFiles.Formats)} file with 'train' in its name (e.g. sst2-train.jsonl); or name the task's folder");
        }

        var directory = new DirectoryInfo(Path.GetDirectoryName(full)!);
        string prefix = stem[..at];
        string own = prefix.TrimEnd('-', '_', '.', ' ');
        return new TaskEntry(
            own.Length > 0 ? own : directory.Name,
            own.Length > 0 ? directory.Name : directory.Parent?.Name ?? directory.Name,
            directory.FullName)
        {
            FilePrefix = prefix,
            FileSuffix = stem[(at + TaskFiles.Train.Length)..],
            ByPath = true,
        };
    }

    private List<TaskEntry> Matches(string name) =>
        Tasks.Where(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase)).ToList();

    private RawSplit? ReadSplit(ITaskSource files, TaskEntry entry, string split)
    {
        var present = TaskFiles.Spellings(split)
            .SelectMany(spelling => TaskFiles.Formats.Select(extension => TaskFiles.Name(entry, spelling, extension)))
            .Where(f => files.Exists(entry, f))
            .ToList();
        if (present.Count > 1)
        {
            throw new MiguUserException($"{entry.Location}: both {string.Join(", ", present[..^1])} and {present[^1]}; keep one");
        }

        if (present.Count == 0)
        {
            return null;
        }

        string file = present[0];
        byte[] bytes = files.Read(entry, file);
        string described = files.Describe(entry, file);
        return TaskFiles.FormatOf(file) switch
        {
            TaskFileFormat.JsonLines => TaskFileReader.ReadJson(bytes, described, jsonLines: true, fields),
            TaskFileFormat.Csv => CsvTaskFile.Read(bytes, described, fields),
            TaskFileFormat.Parquet => ParquetTaskFile.Read(bytes, described, fields),
            _ => TaskFileReader.ReadJson(bytes, described, jsonLines: false, fields),
        };
    }

    private static MiguUserException MissingSplit(ITaskSource files, TaskEntry entry, string split)
    {
        string others = string.Join(", ", TaskFiles.Formats.Skip(1).Select(extension => TaskFiles.Name(entry, split, extension)));
        return new($"{files.Describe(entry, TaskFiles.Name(entry, split, ".json"))}: no such file (nor {others})");
    }
}
