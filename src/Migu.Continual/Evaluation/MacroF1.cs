namespace Migu.Continual.Evaluation;

/// <summary>
/// Macro-F1 over a task's labels, with answers compared after <see cref="AnswerNormalizer"/>.
/// For each label c: TP = predicted c and reference c; FP = predicted c, reference another label;
/// FN = reference c, predicted anything else. A prediction that is none of the labels is a false
/// negative of its reference's class and a false positive of no class: wrong for every class,
/// without inventing an extra class. F1(c) = 2·TP / (2·TP + FP + FN). A label that is never the
/// reference and never predicted (2·TP + FP + FN = 0) has no defined F1 and is left out of the
/// mean, so a capped test set without some label is not charged a zero for it; a label that is
/// predicted but never the reference scores 0. Macro-F1 is the mean over the labels kept.
/// </summary>
public static class MacroF1
{
    public static double Compute(IReadOnlyList<string> predictions, IReadOnlyList<string> references, IReadOnlyList<string> labels)
    {
        ScoreArguments.Check(predictions, references);
        var index = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int k = 0; k < labels.Count; k++)
        {
            index.TryAdd(AnswerNormalizer.Normalize(labels[k]), k);
        }

        var truePositives = new int[labels.Count];
        var falsePositives = new int[labels.Count];
        var falseNegatives = new int[labels.Count];
        for (int i = 0; i < predictions.Count; i++)
        {
            if (!index.TryGetValue(AnswerNormalizer.Normalize(references[i]), out int reference))
            {
                throw new ArgumentException($"reference {i} '{references[i]}' is not one of the labels", nameof(references));
            }

            if (!index.TryGetValue(AnswerNormalizer.Normalize(predictions[i]), out int predicted))
            {
                falseNegatives[reference]++;
            }
            else if (predicted == reference)
            {
                truePositives[reference]++;
            }
            else
            {
                falsePositives[predicted]++;
                falseNegatives[reference]++;
            }
        }

        double sum = 0;
        int counted = 0;
        for (int k = 0; k < labels.Count; k++)
        {
            int denominator = (2 * truePositives[k]) + falsePositives[k] + falseNegatives[k];
            if (denominator > 0)
            {
                sum += 2.0 * truePositives[k] / denominator;
                counted++;
            }
        }

        // counted > 0: every reference is a label, so its class has a positive denominator.
        return sum / counted;
    }
}
