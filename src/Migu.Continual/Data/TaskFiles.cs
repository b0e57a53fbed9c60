namespace Migu.Continual.Data;

/// <summary>
/// The files of a task: <c>labels.json</c> (optional) and one file per split, <c>train</c>, <c>dev</c>
/// (also spelled <c>validation</c>, as Hugging Face names it; optional) and <c>test</c>, each in one
/// of <see cref="Formats"/>. A task found under a data root or named by its folder has them under
/// those names; a task named by its training file (<c>sst2-train.csv</c>) has every file named
/// like that one, with <c>train</c> replaced (<c>sst2-test.csv</c>, <c>sst2-labels.json</c>).
/// </summary>
internal static class TaskFiles
{
    public const string Labels = "labels";

    public const string Train = "train";

    /// <summary>The extensions a split may have, in the order messages list them.</summary>
    public static readonly string[] Formats = [".json", ".jsonl", ".csv", ".parquet"];

    /// <summary>The names a split's file may carry: dev is also <c>validation</c>.</summary>
    public static IReadOnlyList<string> Spellings(string split) => split == "dev" ? ["dev", "validation"] : [split];

    /// <summary>The file of <paramref name="task"/> for <paramref name="role"/> (a split name or <see cref="Labels"/>) in <paramref name="extension"/>.</summary>
    public static string Name(TaskEntry task, string role, string extension) => $"{task.FilePrefix}{role}{task.FileSuffix}{extension}";

    /// <summary>Whether a folder holding <paramref name="fileName"/> is a dataset folder.</summary>
    public static bool IsTaskFile(string fileName) =>
        fileName == Labels + ".json"
        || (Formats.Contains(Path.GetExtension(fileName), StringComparer.Ordinal)
            && new[] { "train", "dev", "validation", "test" }.Contains(Path.GetFileNameWithoutExtension(fileName), StringComparer.Ordinal));

    public static TaskFileFormat FormatOf(string fileName) => Path.GetExtension(fileName) switch
    {
        ".jsonl" => TaskFileFormat.JsonLines,
        ".csv" => TaskFileFormat.Csv,
        ".parquet" => TaskFileFormat.Parquet,
        _ => TaskFileFormat.Json,
    };
}

/// <summary>How a split file is written.</summary>
internal enum TaskFileFormat
{
    Json,
    JsonLines,
    Csv,
    Parquet,
}
