using Migu.Reports.Writing;
using Spectre.Console;

namespace Migu.Cli.Commands;

/// <summary>The comparison table of a report (mean ± sample std over seeds), on the terminal.</summary>
internal static class ReportSummary
{
    public static void Print(ReportResult result)
    {
        bool manySets = result.TaskSets.Sets.Count > 1;
        // The label never wraps; on a narrow terminal the numbers wrap at " ± " instead.
        var table = new Table().AddColumn(new TableColumn("configuration").NoWrap());
        if (manySets)
        {
            table.AddColumn("tasks");
        }

        foreach (string measure in ComparisonCells.MeasureNames.Prepend("seeds"))
        {
            table.AddColumn(new TableColumn(measure).RightAligned());
        }

        foreach (var g in result.Groups)
        {
            List<string> cells = [g.Label, .. manySets ? new[] { g.TaskSet } : [], ComparisonCells.Seeds(g), .. ComparisonCells.Measures(g)];
            table.AddRow([.. cells.Select(Markup.Escape)]);
        }

        table.Caption("in %: mean ± sample std over finished seeds");
        AnsiConsole.Write(table);
        if (manySets)
        {
            for (int i = 0; i < result.TaskSets.Sets.Count; i++)
            {
                AnsiConsole.WriteLine($"tasks {Migu.Reports.Analysis.TaskSets.Letter(i)}: {string.Join(" → ", result.TaskSets.Sets[i])}");
            }

            AnsiConsole.WriteLine("note: the runs train different task lists; rows with different letters are not directly comparable.");
        }

        AnsiConsole.WriteLine($"wrote {result.ReportPath} and {result.Images.Count} figures");
    }
}
