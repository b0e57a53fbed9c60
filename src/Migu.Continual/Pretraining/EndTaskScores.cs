namespace Migu.Continual.Pretraining;

/// <summary>One evaluation of every end task: accuracy and macro-F1 per task (fractions) and each test example's predicted label.</summary>
public sealed record EndTaskScores(IReadOnlyList<double> Accuracy, IReadOnlyList<double> MacroF1, IReadOnlyList<IReadOnlyList<string>> Predictions);
