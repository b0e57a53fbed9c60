using System.Text.Json;
using Migu.Continual.Data;

namespace Migu.Continual.Tests.Data;

/// <summary>A throw-away data root in the CL_Benchmark layout, written file by file.</summary>
internal sealed class TempDataRoot : IDisposable
{
    public TempDataRoot() => Directory.CreateDirectory(Root);

    public string Root { get; } = Path.Combine(Path.GetTempPath(), "migu-data-" + Guid.NewGuid().ToString("N"));

    /// <summary>A well-formed task: labels.json, train.json, test.json (and dev.json when given).</summary>
    public string AddTask(string type, string name, string[] labels, Example[] train, Example[] test, Example[]? dev = null)
    {
        Write($"{type}/{name}/labels.json", JsonSerializer.Serialize(labels));
        Write($"{type}/{name}/train.json", Serialize(train));
        Write($"{type}/{name}/test.json", Serialize(test));
        if (dev is not null)
        {
            Write($"{type}/{name}/dev.json", Serialize(dev));
        }

        return Path.Combine(Root, type, name);
    }

    /// <summary>Writes <paramref name="text"/> to ROOT/<paramref name="relative"/> and returns the full path.</summary>
    public string Write(string relative, string text)
    {
        string path = Path.Combine(Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    public void Delete(string relative) => File.Delete(Path.Combine(Root, relative));

    public void Dispose() => Directory.Delete(Root, recursive: true);

    public static string Serialize(IEnumerable<Example> examples) =>
        JsonSerializer.Serialize(examples.Select(e => new Dictionary<string, string> { ["sentence"] = e.Sentence, ["label"] = e.Label }));

    /// <summary>n examples per label, sentences "label-i".</summary>
    public static Example[] Examples(params (string Label, int Count)[] counts) =>
        counts.SelectMany(c => Enumerable.Range(0, c.Count).Select(i => new Example($"{c.Label}-{i}", c.Label))).ToArray();
}
