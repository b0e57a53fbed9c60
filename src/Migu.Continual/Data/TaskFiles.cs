namespace Migu.Continual.Data;

/// <summary>The file names of the CL_Benchmark layout.</summary>
internal static class TaskFiles
{
    public const string Labels = "labels.json";

    public static readonly string[] Splits = ["train", "dev", "test"];

    /// <summary>Every name whose presence makes a folder a dataset folder.</summary>
    public static readonly string[] All =
        [Labels, "train.json", "train.jsonl", "dev.json", "dev.jsonl", "test.json", "test.jsonl"];
}
