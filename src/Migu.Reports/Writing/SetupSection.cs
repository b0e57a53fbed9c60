using System.Globalization;
using Migu.Reports.Analysis;
using Migu.Reports.Store;

namespace Migu.Reports.Writing;

/// <summary>The report's opening: what was run (models, configurations, seeds, task orders) and how to read the numbers.</summary>
internal static class SetupSection
{
    public static void Write(MarkdownDocument doc, IReadOnlyList<RunGroup> groups, TaskSets taskSets)
    {
        List<RunRecord> runs = [.. groups.SelectMany(g => g.Runs)];
        int finished = runs.Count(r => r.Metrics.Finished);
        doc.Heading(1, "Continual learning with MIGU: results");
        doc.Paragraph(
            $"{Count(runs.Count, "run")} in {Count(groups.Count, "configuration")}, {finished} finished. " +
            "Accuracies are percentages with one decimal; ± is the sample standard deviation (n − 1) over the finished seeds of a configuration.");

        doc.Heading(2, "Setup");
        var facts = new List<(string, string)>
        {
            ("models", string.Join(", ", runs.Select(r => r.Recipe.Model).Distinct(StringComparer.Ordinal))),
            ("configurations", string.Join(", ", groups.Select(g => g.Label))),
            ("seeds", string.Join(", ", runs.Select(r => r.Recipe.Seed).Distinct().Order().Select(s => s.ToString(CultureInfo.InvariantCulture)))),
        };
        if (taskSets.Sets.Count == 1)
        {
            facts.Add(("task order", Order(taskSets.Sets[0])));
        }

        doc.Facts(facts);

        if (taskSets.Sets.Count > 1)
        {
            doc.Paragraph(
                $"The runs train {taskSets.Sets.Count} different task lists (below). The comparison table lists them side by side with their set's letter, " +
                "but ACC, BWT, FWT and forgetting over different tasks are not directly comparable; per-run figures stay per run.");
            doc.Table("Task sets, in training order.", ["set", "tasks"], [false, false],
                taskSets.Sets.Select((s, i) => (IReadOnlyList<string>)[TaskSets.Letter(i), Order(s)]));
        }

        doc.Paragraph(
            "Measures, from the accuracy matrix a (a[i][j]: accuracy on task j after training task i, T tasks) and the untrained model's accuracy b: " +
            "**ACC** = mean of the last row; **BWT** = mean over j < T−1 of a[T−1][j] − a[j][j] (negative = forgetting); " +
            "**FWT** = mean over j ≥ 1 of a[j−1][j] − b[j]; **forgetting** = mean over j < T−1 of the drop from the best earlier a[l][j] to a[T−1][j].");
    }

    public static string Order(IReadOnlyList<string> tasks) => string.Join(" → ", tasks);

    private static string Count(int n, string noun) => $"{n} {noun}{(n == 1 ? string.Empty : "s")}";
}
