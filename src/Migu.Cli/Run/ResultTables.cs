using System.Globalization;
using Migu.Continual.Runs;
using Migu.Reports.Writing;
using Spectre.Console;

namespace Migu.Cli.Run;

/// <summary>The accuracy matrix and the summary measures as terminal tables.</summary>
internal static class ResultTables
{
    public static Table Matrix(RunMetrics metrics, string title)
    {
        var table = new Table().Title(Markup.Escape(title)).AddColumn("after \\ on");
        foreach (string task in metrics.Tasks)
        {
            table.AddColumn(new TableColumn(Markup.Escape(task)).RightAligned());
        }

        if (metrics.BaselineAccuracy is { } baseline)
        {
            table.AddRow([new Markup("[grey]untrained[/]"), .. baseline.Select(a => new Markup($"[grey]{Percent(a)}[/]"))]);
        }

        bool joint = metrics.AccuracyMatrix.Count == 1 && metrics.Tasks.Count > 1;
        for (int i = 0; i < metrics.AccuracyMatrix.Count; i++)
        {
            string name = joint ? "all (joint)" : metrics.Tasks[i];
            table.AddRow([new Markup(Markup.Escape(name)), .. metrics.AccuracyMatrix[i].Select((a, j) => new Markup(j == i ? $"[bold]{Percent(a)}[/]" : Percent(a)))]);
        }

        return table;
    }

    public static Table Summary(IReadOnlyList<(string Name, RunMetrics Metrics)> runs)
    {
        var table = new Table().AddColumn("run");
        foreach (string c in new[] { "ACC", "BWT", "FWT", "forgetting", "macro-F1", "train s" })
        {
            table.AddColumn(new TableColumn(c).RightAligned());
        }

        foreach (var (name, m) in runs)
        {
            table.AddRow(
                Markup.Escape(name), Percent(m.Acc), Signed(m.Bwt), Signed(m.Fwt), Percent(m.Forgetting), Percent(m.MacroF1),
                m.Timings.Sum(t => t.TrainSeconds).ToString("F0", CultureInfo.InvariantCulture));
        }

        return table;
    }

    // The report's rounding (halves away from zero), so a run's summary and `migu report` agree:
    // "F1" alone printed ACC 9.25 as 9.2 here and 9.3 in the report of the same run.
    public static string Percent(double? value) => Numbers.Percent(value);

    public static string Signed(double? value)
    {
        string text = Numbers.Percent(value);
        return value > 0 && text != "0.0" ? "+" + text : text;
    }
}
