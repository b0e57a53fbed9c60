using Migu.Core;

namespace Migu.Continual.Data;

/// <summary>A data root on disk in the CL_Benchmark layout.</summary>
internal sealed class DirectoryTaskSource : ITaskSource
{
    public DirectoryTaskSource(string root)
    {
        if (!Directory.Exists(root))
        {
            throw new MiguUserException($"{root}: no such data directory");
        }

        Root = root;
    }

    private DirectoryTaskSource() => Root = string.Empty;

    /// <summary>The files of tasks named by their paths, which every entry carries in full.</summary>
    public static DirectoryTaskSource Paths { get; } = new();

    public string Root { get; }

    public IReadOnlyList<TaskEntry> Discover()
    {
        var found = new List<TaskEntry>();
        foreach (string typeDir in Visible(Root))
        {
            foreach (string dataDir in Visible(typeDir))
            {
                if (Directory.EnumerateFiles(dataDir).Any(f => TaskFiles.IsTaskFile(Path.GetFileName(f))))
                {
                    found.Add(new TaskEntry(Path.GetFileName(dataDir), Path.GetFileName(typeDir), dataDir));
                }
            }
        }

        return found;
    }

    public bool Exists(TaskEntry task, string file) => File.Exists(Describe(task, file));

    public byte[] Read(TaskEntry task, string file) => File.ReadAllBytes(Describe(task, file));

    public string Describe(TaskEntry task, string file) => Path.Combine(task.Location, file);

    // Hidden folders (.git, .cache) are never task types or datasets.
    private static IEnumerable<string> Visible(string directory) =>
        Directory.EnumerateDirectories(directory)
            .Where(d => !Path.GetFileName(d).StartsWith('.'))
            .Order(StringComparer.Ordinal);
}
