using Migu.Reports.Analysis;
using Migu.Reports.Charts;

namespace Migu.Reports.Writing;

/// <summary>The paper's Table 2 shape: one row per configuration, mean ± std over seeds; then ACC per seed as a box plot.</summary>
internal static class ComparisonSection
{
    public static void Write(MarkdownDocument doc, FigureWriter figures, IReadOnlyList<RunGroup> groups, TaskSets taskSets)
    {
        doc.Heading(2, "Comparison");
        bool manySets = taskSets.Sets.Count > 1;
        List<string> headers = ["configuration", .. manySets ? new[] { "tasks" } : [], "seeds", .. ComparisonCells.MeasureNames];
        List<bool> right = [false, .. manySets ? new[] { false } : [], true, true, true, true, true];
        doc.Table(
            "ACC, BWT, FWT and forgetting (%) per configuration, mean ± sample std over finished seeds.",
            headers,
            right,
            groups.Select(g => (IReadOnlyList<string>)[g.Label, .. manySets ? new[] { g.TaskSet } : [], ComparisonCells.Seeds(g), .. ComparisonCells.Measures(g)]));

        if (AccuracyBoxChart.Build(groups) is { } chart)
        {
            string path = figures.Save(chart, "acc-by-configuration");
            doc.Figure(path, "ACC per configuration over seeds",
                "ACC of each configuration over its finished seeds: each dot is one seed, the box spans the quartiles with the median marked, whiskers reach the extremes.");
        }
    }
}
