namespace Migu.Continual.Data;

/// <summary>A dataset found in a catalog, or named by its path: its name, its task type (the folder above it) and where it lives.</summary>
/// <param name="Name">The dataset folder name as spelled on disk, e.g. <c>agnews</c>.</param>
/// <param name="Type">The task type folder, e.g. <c>TC</c>, <c>SC</c>, <c>NLI</c>.</param>
/// <param name="Location">The dataset folder, for messages: a path, or <c>embedded:TC/agnews</c>.</param>
public sealed record TaskEntry(string Name, string Type, string Location)
{
    /// <summary>For a task named by its training file: what its name holds before <c>train</c> (<c>sst2-</c>).</summary>
    internal string FilePrefix { get; init; } = string.Empty;

    /// <summary>For a task named by its training file: what its name holds after <c>train</c>, before the extension.</summary>
    internal string FileSuffix { get; init; } = string.Empty;

    /// <summary>Named by a path rather than found under the catalog's root: read from disk whatever the root is.</summary>
    internal bool ByPath { get; init; }
}
