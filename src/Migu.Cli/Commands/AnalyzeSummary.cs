using Migu.Continual.Analysis;
using Migu.Reports.Writing;
using Spectre.Console;

namespace Migu.Cli.Commands;

/// <summary>
/// A magnitude analysis on the terminal: each model's similarity matrix and the mean off-diagonal
/// similarities as tables; notes and sentences as plain lines, which Spectre would wrap at the
/// console width.
/// </summary>
internal static class AnalyzeSummary
{
    public static void Print(MagnitudeAnalysis analysis, AnalysisReportResult result)
    {
        foreach (ModelMagnitudes m in analysis.Models)
        {
            var matrix = new Table().Title(Markup.Escape($"{m.Label}: cosine similarity of magnitude vectors, mean over {m.Layers.Count} layers"));
            matrix.AddColumn(new TableColumn(string.Empty).NoWrap());
            foreach (string task in analysis.Tasks)
            {
                matrix.AddColumn(new TableColumn(Markup.Escape(task)).RightAligned());
            }

            for (int i = 0; i < analysis.Tasks.Count; i++)
            {
                matrix.AddRow([Markup.Escape(analysis.Tasks[i]), .. m.Similarity[i].Select(Numbers.Similarity)]);
            }

            AnsiConsole.Write(matrix);
        }

        var summary = new Table()
            .AddColumn(new TableColumn("model").NoWrap())
            .AddColumn(new TableColumn("mean off-diagonal").RightAligned())
            .AddColumn(new TableColumn("layers").RightAligned())
            .AddColumn("plotted layer");
        foreach (ModelMagnitudes m in analysis.Models)
        {
            summary.AddRow(Markup.Escape(m.Label), Numbers.Similarity(m.MeanOffDiagonal), m.Layers.Count.ToString(System.Globalization.CultureInfo.InvariantCulture), Markup.Escape(m.DistributionLayer));
        }

        summary.Caption("lower = tasks drive more distinct output units");
        AnsiConsole.Write(summary);
        foreach (ModelMagnitudes m in analysis.Models.Where(m => m.Note is not null))
        {
            Console.WriteLine($"note: {m.Label}: {m.Note}");
        }

        foreach (string line in AnalysisReport.Comparisons(analysis))
        {
            Console.WriteLine(line);
        }

        Console.WriteLine($"wrote {result.ReportPath}, {result.JsonPath} and {result.Images.Count} figures");
    }
}
