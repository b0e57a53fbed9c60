using Migu.Core;

namespace Migu.Continual.Data;

/// <summary>
/// A task's label list, where it came from, and the check of every example against it: a text
/// label must be in the list; an integer label is a class id, the name at that place in labels.json
/// (or in the class names a Parquet file carries), as Hugging Face's ClassLabel numbers them.
/// </summary>
internal sealed class TaskLabeling
{
    private readonly HashSet<string> known;
    private readonly IReadOnlyList<string>? idNames;
    private readonly string idSource;
    private readonly string notKnown;

    private TaskLabeling(IReadOnlyList<string> labels, IReadOnlyList<string>? idNames, string idSource, string notKnown, string? note)
    {
        Labels = labels;
        known = new HashSet<string>(labels, StringComparer.Ordinal);
        this.idNames = idNames;
        this.idSource = idSource;
        this.notKnown = notKnown;
        Note = note;
    }

    /// <summary>The labels, in the order prompts list them.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>Where the labels came from when no labels file gave them, for run.log; null when one did.</summary>
    public string? Note { get; }

    /// <summary>The labels of a labels file (already checked).</summary>
    public static TaskLabeling Listed(IReadOnlyList<string> labels, string labelsFile) =>
        new(labels, labels, labelsFile, $"is not in {labelsFile} ({TaskFileReader.ListLabels(labels)})", note: null);

    /// <summary>Without a labels file: the training file's class names, else its distinct labels in ordinal order.</summary>
    public static TaskLabeling FromTraining(RawSplit train)
    {
        ArgumentNullException.ThrowIfNull(train);
        string trainFile = Path.GetFileName(train.File);
        if (train.ClassNames is { } names)
        {
            TaskFileReader.CheckLabelSet(names, train.File);
            string list = TaskFileReader.ListLabels(names);
            return new(names, names, train.File, $"is not among the class names of {train.File} ({list})", $"no labels.json; labels are the class names stored in {trainFile}: {list}");
        }

        if (train.Examples.FirstOrDefault(e => e.Label is null) is { Where: not null } id)
        {
            throw NoNames(train.File, id);
        }

        List<string> labels = [.. train.Examples.Select(e => e.Label!).Distinct(StringComparer.Ordinal).Order(StringComparer.Ordinal)];
        TaskFileReader.CheckLabelSet(labels, train.File);
        string all = TaskFileReader.ListLabels(labels);
        return new(labels, null, train.File, $"is not among the training labels ({all}); list every label in labels.json", $"no labels.json; labels are the distinct labels of {trainFile}, sorted: {all}");
    }

    /// <summary>The split's examples with their labels as text; an unknown label or class id names the file and the item, line or row.</summary>
    public IReadOnlyList<Example> Check(RawSplit split)
    {
        ArgumentNullException.ThrowIfNull(split);
        if (split.Examples.Count == 0)
        {
            throw new MiguUserException($"{split.File}: no examples");
        }

        IReadOnlyList<string>? names = idNames ?? split.ClassNames;
        string source = idNames is null ? split.File : idSource;
        var examples = new List<Example>(split.Examples.Count);
        foreach (RawExample raw in split.Examples)
        {
            string label = raw.Label
                ?? (names is null ? throw NoNames(split.File, raw)
                    : raw.ClassId >= 0 && raw.ClassId < names.Count ? names[(int)raw.ClassId]
                    : throw new MiguUserException($"{split.File}: {raw.Where}: class id {raw.ClassId} is out of range; {source} names {names.Count} classes (ids 0–{names.Count - 1})"));
            if (!known.Contains(label))
            {
                throw new MiguUserException($"{split.File}: {raw.Where}: label '{label}' {notKnown}");
            }

            examples.Add(new Example(raw.Sentence, label));
        }

        return examples;
    }

    private static MiguUserException NoNames(string file, RawExample raw) =>
        new($"{file}: {raw.Where}: label {raw.ClassId} is a class id, but there is no labels.json to name the classes (list the names there, in id order)");
}
