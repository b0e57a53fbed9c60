using System.Globalization;
using Migu.Reports.Analysis;

namespace Migu.Reports.Writing;

/// <summary>The cells of one comparison-table row, shared by report.md and the terminal summary.</summary>
public static class ComparisonCells
{
    public static readonly IReadOnlyList<string> MeasureNames = ["ACC", "BWT", "FWT", "forgetting"];

    /// <summary>"3", or "2 (+1 running)" when some runs have not finished.</summary>
    public static string Seeds(RunGroup g)
    {
        string finished = g.Finished.Count().ToString(CultureInfo.InvariantCulture);
        return g.InProgress == 0 ? finished : $"{finished} (+{g.InProgress} running)";
    }

    /// <summary>ACC, BWT, FWT and forgetting as "mean ± std" percentages.</summary>
    public static IReadOnlyList<string> Measures(RunGroup g) =>
        [Numbers.Percent(g.Acc), Numbers.Percent(g.Bwt), Numbers.Percent(g.Fwt), Numbers.Percent(g.Forgetting)];
}
