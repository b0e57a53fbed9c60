namespace Migu.Continual.Evaluation;

/// <summary>Exact-match accuracy: the fraction of predictions equal to their reference after <see cref="AnswerNormalizer"/>.</summary>
public static class ExactMatch
{
    public static double Accuracy(IReadOnlyList<string> predictions, IReadOnlyList<string> references)
    {
        ScoreArguments.Check(predictions, references);
        int correct = 0;
        for (int i = 0; i < predictions.Count; i++)
        {
            if (AnswerNormalizer.Same(predictions[i], references[i]))
            {
                correct++;
            }
        }

        return (double)correct / predictions.Count;
    }
}
