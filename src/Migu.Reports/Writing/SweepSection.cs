using Migu.Reports.Analysis;
using Migu.Reports.Charts;

namespace Migu.Reports.Writing;

/// <summary>Threshold sweeps: a table and a chart of ACC against T for each configuration run at several T.</summary>
internal static class SweepSection
{
    public static void Write(MarkdownDocument doc, FigureWriter figures, IReadOnlyList<ThresholdSweep> sweeps)
    {
        if (sweeps.Count == 0)
        {
            return;
        }

        doc.Heading(2, "Threshold sweep");
        foreach (var sweep in sweeps)
        {
            var rows = new List<IReadOnlyList<string>>();
            if (sweep.Baseline is { } off)
            {
                rows.Add(["0 (MIGU off)", ComparisonCells.Seeds(off), Numbers.Percent(off.Acc)]);
            }

            rows.AddRange(sweep.Points.Select(p => (IReadOnlyList<string>)[Numbers.Threshold(p.Threshold), ComparisonCells.Seeds(p.Group), Numbers.Percent(p.Group.Acc)]));
            doc.Table($"ACC (%) of {sweep.Label} at each threshold T, mean ± sample std over finished seeds.", ["T", "seeds", "ACC"], [false, true, true], rows);

            string path = figures.Save(ThresholdSweepChart.Build(sweep), $"sweep-{sweep.Label}");
            string off2 = sweep.Baseline is null ? string.Empty : "; the grey square and dashed line are MIGU off";
            doc.Figure(path, $"ACC against T for {sweep.Label}",
                $"ACC of {sweep.Label} against the threshold T, mean ± sample std over seeds{off2}.");
        }
    }
}
