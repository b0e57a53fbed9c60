using System.Text.Json;

namespace Migu.Cli.Tests;

/// <summary>A small CL_Benchmark-layout data root in a temp folder: two tasks whose label is a word of the sentence.</summary>
internal sealed class TinyTaskRoot : IDisposable
{
    public TinyTaskRoot(int train = 12, int test = 6)
    {
        Root = Directory.CreateTempSubdirectory("migu-tasks").FullName;
        Write("TC", "colors", ["red", "blue"], train, test, 1);
        Write("SC", "moods", ["happy", "sad"], train, test, 2);
    }

    public string Root { get; }

    public string TaskDirectory(string type, string name) => Path.Combine(Root, type, name);

    public void Dispose() => Directory.Delete(Root, recursive: true);

    private void Write(string type, string name, string[] labels, int train, int test, int seed)
    {
        string dir = Directory.CreateDirectory(TaskDirectory(type, name)).FullName;
        var random = new Random(seed);
        object[] Examples(int n) => [.. Enumerable.Range(0, n).Select(i =>
        {
            string label = labels[random.Next(labels.Length)];
            return new { sentence = $"item {i} looks {label} today", label };
        })];
        File.WriteAllText(Path.Combine(dir, "labels.json"), JsonSerializer.Serialize(labels));
        File.WriteAllText(Path.Combine(dir, "train.json"), JsonSerializer.Serialize(Examples(train)));
        File.WriteAllText(Path.Combine(dir, "test.json"), JsonSerializer.Serialize(Examples(test)));
    }
}
