using Migu.Continual.Recipes;
using Migu.Core;

namespace Migu.Continual.Data;

/// <summary>
/// The datasets under a data root in the CL_Benchmark layout,
/// <c>ROOT/&lt;Type&gt;/&lt;dataset&gt;/{labels.json, train, dev, test}</c>, where each split is
/// <c>.json</c> (an array of <c>{"sentence", "label"}</c>) or <c>.jsonl</c> (one such object a
/// line); dev is optional. Dataset names match case-insensitively. The embedded demo stream
/// (<see cref="Embedded"/>) is a catalog like any other.
/// </summary>
public sealed class TaskCatalog
{
    private readonly ITaskSource source;

    private TaskCatalog(ITaskSource source, IReadOnlyList<string>? defaultOrder)
    {
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

    /// <summary>A data root on disk.</summary>
    public static TaskCatalog Open(string root) => new(new DirectoryTaskSource(root), defaultOrder: null);

    /// <summary>
    /// The demo stream shipped in this assembly: agnews, dbpedia (TC), amazon, yelp (SC), sampled
    /// from the shared CL_Benchmark copy (src/Migu.Continual/Data/Demo/PROVENANCE.md). Its default
    /// order is the papers' order 1 with yelp standing in for yahoo.
    /// </summary>
    public static TaskCatalog Embedded() => new(new EmbeddedTaskSource(), ["dbpedia", "amazon", "yelp", "agnews"]);

    /// <summary>A recipe's <c>data</c>: a directory, or null for the embedded demo stream.</summary>
    public static TaskCatalog ForRecipe(string? data) => data is null ? Embedded() : Open(data);

    public bool Contains(string name) => Matches(name).Count == 1;

    /// <summary>The dataset folder named <paramref name="name"/>, compared case-insensitively.</summary>
    public TaskEntry Find(string name)
    {
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
    public TaskData Load(string name)
    {
        TaskEntry entry = Find(name);
        string labelsFile = source.Describe(entry, TaskFiles.Labels);
        if (!source.Exists(entry, TaskFiles.Labels))
        {
            throw new MiguUserException($"{labelsFile}: no such file (every task needs its labels.json)");
        }

        IReadOnlyList<string> labels = TaskFileReader.ReadLabels(source.Read(entry, TaskFiles.Labels), labelsFile);
        return new TaskData
        {
            Name = entry.Name,
            Type = entry.Type,
            Labels = labels,
            Train = ReadSplit(entry, "train", labels) ?? throw MissingSplit(entry, "train"),
            Dev = ReadSplit(entry, "dev", labels) ?? [],
            Test = ReadSplit(entry, "test", labels) ?? throw MissingSplit(entry, "test"),
            Location = entry.Location,
        };
    }

    /// <summary>Reads a task and applies the recipe's data options (dev carving, caps) with the run seed.</summary>
    public TaskData Load(string name, DataSettings settings, long seed) => DataPreparation.Apply(Load(name), settings, seed);

    /// <summary>"agnews (TC), amazon (SC), …", for messages.</summary>
    public string Available() =>
        string.Join(", ", Tasks.OrderBy(t => t.Name, StringComparer.OrdinalIgnoreCase).Select(t => $"{t.Name} ({t.Type})"));

    private List<TaskEntry> Matches(string name) =>
        Tasks.Where(t => string.Equals(t.Name, name, StringComparison.OrdinalIgnoreCase)).ToList();

    private IReadOnlyList<Example>? ReadSplit(TaskEntry entry, string split, IReadOnlyList<string> labels)
    {
        string json = $"{split}.json";
        string jsonLines = $"{split}.jsonl";
        bool hasJson = source.Exists(entry, json);
        bool hasJsonLines = source.Exists(entry, jsonLines);
        if (hasJson && hasJsonLines)
        {
            throw new MiguUserException($"{entry.Location}: both {json} and {jsonLines}; keep one");
        }

        if (!hasJson && !hasJsonLines)
        {
            return null;
        }

        string file = hasJson ? json : jsonLines;
        return TaskFileReader.ReadExamples(source.Read(entry, file), source.Describe(entry, file), jsonLines: hasJsonLines, labels);
    }

    private MiguUserException MissingSplit(TaskEntry entry, string split) =>
        new($"{source.Describe(entry, $"{split}.json")}: no such file (nor {split}.jsonl)");
}
