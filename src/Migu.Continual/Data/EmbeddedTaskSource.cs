using System.Reflection;

namespace Migu.Continual.Data;

/// <summary>
/// The demo task stream shipped inside this assembly (Data/Demo, see PROVENANCE.md there).
/// Resources are named <c>Migu.Continual.Demo/&lt;Type&gt;/&lt;dataset&gt;/&lt;file&gt;</c>.
/// </summary>
internal sealed class EmbeddedTaskSource : ITaskSource
{
    private const string Prefix = "Migu.Continual.Demo/";
    private const string Scheme = "embedded:";

    private static readonly Assembly Assembly = typeof(EmbeddedTaskSource).Assembly;

    // Resource path (Type/dataset/file, with '/' on every OS) → manifest resource name.
    private readonly Dictionary<string, string> resources = Assembly.GetManifestResourceNames()
        .Where(n => n.StartsWith(Prefix, StringComparison.Ordinal))
        .ToDictionary(n => n[Prefix.Length..].Replace('\\', '/'), n => n, StringComparer.Ordinal);

    public string Root => "embedded demo data";

    public IReadOnlyList<TaskEntry> Discover() =>
        resources.Keys
            .Select(k => k.Split('/'))
            .Where(parts => parts.Length == 3)
            .Select(parts => new TaskEntry(parts[1], parts[0], $"{Scheme}{parts[0]}/{parts[1]}"))
            .Distinct()
            .OrderBy(t => t.Location, StringComparer.Ordinal)
            .ToList();

    public bool Exists(TaskEntry task, string file) => resources.ContainsKey(Key(task, file));

    public byte[] Read(TaskEntry task, string file)
    {
        using Stream stream = Assembly.GetManifestResourceStream(resources[Key(task, file)])!;
        using var buffer = new MemoryStream();
        stream.CopyTo(buffer);
        return buffer.ToArray();
    }

    public string Describe(TaskEntry task, string file) => $"{task.Location}/{file}";

    private static string Key(TaskEntry task, string file) => $"{task.Type}/{task.Name}/{file}";
}
