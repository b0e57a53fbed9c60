namespace Migu.Continual.Data;

/// <summary>Where a catalog's files come from: a directory on disk or the resources embedded in this assembly.</summary>
internal interface ITaskSource
{
    /// <summary>The root, as messages name it.</summary>
    string Root { get; }

    /// <summary>Every dataset folder, <c>ROOT/&lt;Type&gt;/&lt;dataset&gt;/</c>, that holds at least one task file.</summary>
    IReadOnlyList<TaskEntry> Discover();

    bool Exists(TaskEntry task, string file);

    byte[] Read(TaskEntry task, string file);

    /// <summary>The file as messages name it.</summary>
    string Describe(TaskEntry task, string file);
}
