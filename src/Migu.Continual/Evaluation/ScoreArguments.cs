namespace Migu.Continual.Evaluation;

/// <summary>The checks every score makes on its inputs; a mismatch is a bug in the caller, not a user error.</summary>
internal static class ScoreArguments
{
    public static void Check(IReadOnlyList<string> predictions, IReadOnlyList<string> references)
    {
        if (predictions.Count != references.Count)
        {
            throw new ArgumentException($"{predictions.Count} predictions for {references.Count} references", nameof(predictions));
        }

        if (predictions.Count == 0)
        {
            throw new ArgumentException("no examples to score", nameof(predictions));
        }
    }
}
