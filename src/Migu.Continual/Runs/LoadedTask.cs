using Migu.Continual.Training;

namespace Migu.Continual.Runs;

/// <summary>A task ready to run: its prompts and answers for training and for scoring, and its label set.</summary>
/// <param name="Name">Dataset name (agnews, …).</param>
/// <param name="Labels">The task's label strings, in labels.json order.</param>
/// <param name="Train">Training examples as prompt → answer.</param>
/// <param name="Test">Scored examples as prompt → gold answer.</param>
public sealed record LoadedTask(string Name, IReadOnlyList<string> Labels, IReadOnlyList<TextPair> Train, IReadOnlyList<TextPair> Test);
