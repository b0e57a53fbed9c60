namespace Migu.Continual.Data;

/// <summary>A dataset found in a catalog: its folder name, its task type (the parent folder) and where it lives.</summary>
/// <param name="Name">The dataset folder name as spelled on disk, e.g. <c>agnews</c>.</param>
/// <param name="Type">The task type folder, e.g. <c>TC</c>, <c>SC</c>, <c>NLI</c>.</param>
/// <param name="Location">The dataset folder, for messages: a path, or <c>embedded:TC/agnews</c>.</param>
public sealed record TaskEntry(string Name, string Type, string Location);
