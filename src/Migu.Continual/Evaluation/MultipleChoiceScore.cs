namespace Migu.Continual.Evaluation;

/// <summary>
/// Accuracy on a multiple-choice benchmark (fractions): <see cref="Accuracy"/> picks the choice with
/// the highest Σ log p(choice tokens | context); <see cref="NormalizedAccuracy"/> divides each sum by
/// the choice's length in characters first (lm-evaluation-harness's acc_norm), so longer choices are
/// not penalised for having more tokens. Ties go to the earlier choice.
/// </summary>
public sealed record MultipleChoiceScore(double Accuracy, double NormalizedAccuracy, int Count)
{
    /// <summary>The scores of <paramref name="items"/> given each choice's log-likelihood.</summary>
    public static MultipleChoiceScore Of(IReadOnlyList<MultipleChoiceItem> items, IReadOnlyList<double[]> logLikelihoods)
    {
        ArgumentNullException.ThrowIfNull(items);
        ArgumentNullException.ThrowIfNull(logLikelihoods);
        if (items.Count == 0 || items.Count != logLikelihoods.Count)
        {
            throw new ArgumentException($"{items.Count} questions but {logLikelihoods.Count} score rows", nameof(logLikelihoods));
        }

        int right = 0, rightNormalized = 0;
        for (int q = 0; q < items.Count; q++)
        {
            double[] ll = logLikelihoods[q];
            IReadOnlyList<string> choices = items[q].Choices;
            right += ArgMax(ll.Length, c => ll[c]) == items[q].Answer ? 1 : 0;
            rightNormalized += ArgMax(ll.Length, c => ll[c] / Characters(choices[c])) == items[q].Answer ? 1 : 0;
        }

        return new MultipleChoiceScore(right / (double)items.Count, rightNormalized / (double)items.Count, items.Count);
    }

    /// <summary>Characters as Python's len counts them (code points).</summary>
    public static int Characters(string text) => Math.Max(1, text.EnumerateRunes().Count());

    private static int ArgMax(int count, Func<int, double> value)
    {
        int best = 0;
        for (int c = 1; c < count; c++)
        {
            if (value(c) > value(best))
            {
                best = c;
            }
        }

        return best;
    }
}
