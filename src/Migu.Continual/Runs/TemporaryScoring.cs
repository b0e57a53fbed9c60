namespace Migu.Continual.Runs;

// Placeholder until the evaluation math lands from the data branch; replaced at merge.
internal static class TemporaryScoring
{
    public static string Normalize(string s) =>
        string.Join(' ', new string([.. s.ToLowerInvariant().Where(c => !char.IsPunctuation(c) && !char.IsSymbol(c))]).Split((char[]?)null, StringSplitOptions.RemoveEmptyEntries));

    public static (double Accuracy, double MacroF1) Score(IReadOnlyList<string> predictions, IReadOnlyList<string> golds, IReadOnlyList<string> labels)
    {
        var p = predictions.Select(Normalize).ToArray();
        var g = golds.Select(Normalize).ToArray();
        double acc = p.Zip(g).Count(x => x.First == x.Second) / (double)Math.Max(1, g.Length);
        var f1s = new List<double>();
        foreach (string label in labels.Select(Normalize).Distinct())
        {
            int tp = p.Zip(g).Count(x => x.First == label && x.Second == label);
            int fp = p.Zip(g).Count(x => x.First == label && x.Second != label);
            int fn = p.Zip(g).Count(x => x.First != label && x.Second == label);
            if (tp + fp + fn == 0)
            {
                continue;
            }

            f1s.Add(2.0 * tp / ((2 * tp) + fp + fn));
        }

        return (acc, f1s.Count == 0 ? 0 : f1s.Average());
    }

    public static RunMetrics Summarize(RunMetrics m)
    {
        var a = m.AccuracyMatrix;
        int rows = a.Count;
        int t = m.Tasks.Count;
        if (rows == 0)
        {
            return m;
        }

        double acc = a[^1].Average();
        double? bwt = null, fwt = null, forgetting = null;
        if (rows == t && t > 1)
        {
            bwt = Enumerable.Range(0, t - 1).Average(j => a[t - 1][j] - a[j][j]);
            forgetting = Enumerable.Range(0, t - 1).Average(j => Enumerable.Range(0, t - 1).Max(l => a[l][j]) - a[t - 1][j]);
            if (m.BaselineAccuracy is { } b)
            {
                fwt = Enumerable.Range(1, t - 1).Average(j => a[j - 1][j] - b[j]);
            }
        }

        return m with { Acc = acc, Bwt = bwt, Fwt = fwt, Forgetting = forgetting, MacroF1 = m.MacroF1Matrix[^1].Average() };
    }
}
