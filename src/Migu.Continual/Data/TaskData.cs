using Migu.Core;

namespace Migu.Continual.Data;

/// <summary>
/// One task of a stream, fully read and checked: every example's label is one of
/// <see cref="Labels"/>, and train and test are not empty. <see cref="Dev"/> is empty when the task
/// has no dev file and none was carved from train (<see cref="DataPreparation"/>).
/// </summary>
public sealed record TaskData
{
    /// <summary>The dataset folder name, e.g. <c>agnews</c>; the prompt's <c>Dataset:</c> line.</summary>
    public required string Name { get; init; }

    /// <summary>The task type folder, e.g. <c>TC</c>; the prompt's <c>Task:</c> line.</summary>
    public required string Type { get; init; }

    /// <summary>labels.json, in file order (the prompt lists the options in this order); without it, see <see cref="LabelsNote"/>.</summary>
    public required IReadOnlyList<string> Labels { get; init; }

    public required IReadOnlyList<Example> Train { get; init; }

    public IReadOnlyList<Example> Dev { get; init; } = [];

    public required IReadOnlyList<Example> Test { get; init; }

    /// <summary>Where the task was read from, for messages.</summary>
    public string Location { get; init; } = string.Empty;

    /// <summary>Where the labels came from when the task has no labels.json (a run writes it to run.log); null when it has one.</summary>
    public string? LabelsNote { get; init; }

    /// <summary>The catalog entry the task was read from, to read it again whole; null for a task made in code.</summary>
    public TaskEntry? Entry { get; init; }

    /// <summary>
    /// The split named <c>train</c>, <c>dev</c> or <c>test</c> (case-insensitive), as
    /// <c>eval.split</c> names it. An empty dev split is an error rather than an empty score.
    /// </summary>
    public IReadOnlyList<Example> Split(string split)
    {
        switch (split.ToUpperInvariant())
        {
            case "TRAIN":
                return Train;
            case "TEST":
                return Test;
            case "DEV":
                return Dev.Count > 0
                    ? Dev
                    : throw new MiguUserException(
                        $"{Location}: task '{Name}' has no dev split; add dev.json or set data_options.dev_fraction");
            default:
                throw new MiguUserException($"eval.split: '{split}' is not one of train, dev, test");
        }
    }
}
