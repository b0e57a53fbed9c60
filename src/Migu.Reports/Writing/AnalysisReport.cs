using System.Globalization;
using Migu.Continual.Analysis;
using Migu.Core.IO;
using Migu.Reports.Charts;

namespace Migu.Reports.Writing;

/// <summary>
/// analysis.md, analysis.json and the two figures of a magnitude analysis: the per-task
/// distributions of one layer and the task × task similarity heatmaps, models side by side.
/// </summary>
public static class AnalysisReport
{
    public const string ReportFileName = "analysis.md";

    private static readonly (string Name, string[] Kinds)[] KindGroups =
    [
        ("attention", ["query", "key", "value", "attention_output"]),
        ("FFN", ["feed_forward_up", "feed_forward_gate", "feed_forward_down"]),
    ];

    public static AnalysisReportResult Write(MagnitudeAnalysis analysis, AnalysisReportOptions options)
    {
        string outDir = Path.GetFullPath(options.OutDirectory);
        string jsonPath = Path.Combine(outDir, MagnitudeAnalysisFile.FileName);
        MagnitudeAnalysisFile.Write(analysis, jsonPath);

        var figures = new FigureWriter(outDir, options.Format);
        var doc = new MarkdownDocument();
        WriteSetup(doc, analysis);
        WriteSimilarity(doc, figures, analysis);
        WriteDistributions(doc, figures, analysis, options);

        // Last, so analysis.md never links an image that is not there yet.
        string reportPath = Path.Combine(outDir, ReportFileName);
        AtomicFile.WriteAllText(reportPath, doc.ToString());
        return new AnalysisReportResult { ReportPath = reportPath, JsonPath = jsonPath, Images = figures.Written };
    }

    /// <summary>The mean off-diagonal similarity over the layers of one kind group; null when the selection has none.</summary>
    public static double? GroupMean(ModelMagnitudes model, IReadOnlyCollection<string> kinds)
    {
        var values = model.Layers.Where(l => kinds.Contains(l.Kind) && !double.IsNaN(l.MeanOffDiagonal)).Select(l => l.MeanOffDiagonal).ToList();
        return values.Count == 0 ? null : values.Average();
    }

    /// <summary>
    /// One sentence per model after the first, comparing its mean off-diagonal similarity with the
    /// first model's, whichever way it goes.
    /// </summary>
    public static IReadOnlyList<string> Comparisons(MagnitudeAnalysis analysis)
    {
        var lines = new List<string>();
        ModelMagnitudes first = analysis.Models[0];
        foreach (ModelMagnitudes other in analysis.Models.Skip(1))
        {
            double delta = other.MeanOffDiagonal - first.MeanOffDiagonal;
            string how = Math.Abs(delta) < 0.0005
                ? "about as alike across tasks as"
                : delta < 0 ? "more distinct across tasks than" : "less distinct across tasks than";
            lines.Add(string.Create(CultureInfo.InvariantCulture,
                $"{other.Label}'s magnitude vectors are {how} {first.Label}'s: mean off-diagonal similarity {Numbers.Similarity(other.MeanOffDiagonal)} vs {Numbers.Similarity(first.MeanOffDiagonal)} (Δ {delta:+0.000;-0.000;0.000})."));
        }

        return lines;
    }

    private static void WriteSetup(MarkdownDocument doc, MagnitudeAnalysis analysis)
    {
        doc.Heading(1, "Magnitude analysis");
        doc.Paragraph(
            "Every model reads the same samples of each task, prompt and answer teacher-forced as in training (fp32, eval mode, padding excluded). " +
            "For each selected linear layer, the L1 magnitude Σ|y| of every output unit over a task's tokens makes one vector per task; " +
            "two tasks are compared by the cosine similarity of their vectors, layer by layer, then averaged over the layers. " +
            "Lower similarity means the tasks drive more distinct units; the MIGU paper reports that MIGU makes them more distinct. " +
            "Magnitudes are never negative and share a large common level, so cosines sit close to 1 and differences often show only in the second or third decimal.");
        doc.Facts(
        [
            ("data", analysis.Data),
            ("tasks", string.Join(", ", analysis.Tasks)),
            ("samples", string.Create(CultureInfo.InvariantCulture, $"{string.Join(", ", analysis.Tasks.Zip(analysis.Samples, (t, n) => $"{t} {n}"))} from the {analysis.Split} split (seed {analysis.Seed})")),
            ("layers", $"{analysis.Layers} ({string.Join(", ", analysis.Models.Select(m => $"{m.Label}: {m.Layers.Count}"))})"),
        ]);
        doc.Table("Models.", ["model", "loaded from", "run", "note"], [false, false, false, false],
            analysis.Models.Select(m => (IReadOnlyList<string>)
            [
                m.Label,
                m.Adapters is null ? m.Model : $"{m.Model} + {m.Adapters}",
                m.Run ?? "–",
                m.Note ?? "–",
            ]));
    }

    private static void WriteSimilarity(MarkdownDocument doc, FigureWriter figures, MagnitudeAnalysis analysis)
    {
        doc.Heading(2, "Task-to-task similarity");
        var headers = new List<string> { "model", "all selected layers" };
        headers.AddRange(KindGroups.Select(g => g.Name));
        doc.Table("Mean off-diagonal cosine similarity of magnitude vectors (lower = more distinct across tasks).",
            headers, [false, .. headers.Skip(1).Select(_ => true)],
            analysis.Models.Select(m => (IReadOnlyList<string>)
            [
                m.Label,
                Numbers.Similarity(m.MeanOffDiagonal),
                .. KindGroups.Select(g => GroupMean(m, g.Kinds) is double v ? Numbers.Similarity(v) : "–"),
            ]));
        foreach (string line in Comparisons(analysis))
        {
            doc.Paragraph(line);
        }

        string path = figures.Save(MagnitudeSimilarityChart.Build(analysis), "magnitude-similarity");
        doc.Figure(path, "task-to-task similarity heatmaps",
            "Cosine similarity of the tasks' magnitude vectors, averaged over the selected layers; one colour scale for every panel.");

        foreach (ModelMagnitudes m in analysis.Models)
        {
            doc.Table($"Similarity matrix of {m.Label}.", ["", .. analysis.Tasks], [false, .. analysis.Tasks.Select(_ => true)],
                analysis.Tasks.Select((task, i) => (IReadOnlyList<string>)[task, .. m.Similarity[i].Select(Numbers.Similarity)]));
        }
    }

    private static void WriteDistributions(MarkdownDocument doc, FigureWriter figures, MagnitudeAnalysis analysis, AnalysisReportOptions options)
    {
        doc.Heading(2, "Magnitude distributions");
        var layers = analysis.Models.Select(m => m.DistributionLayer).Distinct(StringComparer.Ordinal).ToList();
        string layerText = layers.Count == 1 ? $"`{layers[0]}`" : string.Join(", ", analysis.Models.Select(m => $"`{m.DistributionLayer}` ({m.Label})"));
        string order = options.Order == DistributionOrder.Shared
            ? "units ordered by their mean share over the tasks (the same order for every task, so a unit keeps its place)"
            : "each task's units sorted by share, largest first";
        var shares = analysis.Models.SelectMany(m => m.Distributions.SelectMany(d => d)).Where(v => v > 0).ToList();
        bool logY = shares.Count > 0 && MagnitudeDistributionChart.IsLog(options.Scale, shares.Min(), shares.Max());
        string path = figures.Save(MagnitudeDistributionChart.Build(analysis, options.Order, options.Scale), "magnitude-distribution");
        doc.Figure(path, "per-task magnitude distributions",
            $"L1-normalised Σ|y| per output unit of {layerText}, one line per task; {order}; {(logY ? "log" : "linear")} y axis, the same range in every panel.");
    }
}
