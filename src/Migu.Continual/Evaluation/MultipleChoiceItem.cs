namespace Migu.Continual.Evaluation;

/// <summary>One multiple-choice question: a context, its possible continuations, and the index of the right one.</summary>
public sealed record MultipleChoiceItem(string Context, IReadOnlyList<string> Choices, int Answer);
