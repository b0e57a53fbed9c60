namespace Migu.Continual.Evaluation;

/// <summary>One task scored once: exact-match accuracy and macro-F1 (fractions in [0, 1]) over <see cref="Count"/> examples.</summary>
public sealed record TaskScore(double Accuracy, double MacroF1, int Count)
{
    /// <summary>Scores predictions against the references of a task with these labels.</summary>
    public static TaskScore Of(IReadOnlyList<string> predictions, IReadOnlyList<string> references, IReadOnlyList<string> labels) =>
        new(ExactMatch.Accuracy(predictions, references), Evaluation.MacroF1.Compute(predictions, references, labels), predictions.Count);
}
