using System.Globalization;
using Migu.Reports.Analysis;
using Migu.Reports.Charts;
using Migu.Reports.Store;

namespace Migu.Reports.Writing;

/// <summary>Every run: one summary table, then per run its accuracy matrix, per-task curves and loss.</summary>
internal static class RunSection
{
    public static void Write(MarkdownDocument doc, FigureWriter figures, IReadOnlyList<RunGroup> groups)
    {
        doc.Heading(2, "Runs");
        var rows = groups.SelectMany(g => g.Runs.Select(r => (IReadOnlyList<string>)
        [
            r.Name,
            g.Label,
            r.Recipe.Model,
            r.Recipe.Seed.ToString(CultureInfo.InvariantCulture),
            Progress(r),
            Numbers.Percent(r.Metrics.Acc),
            Numbers.Percent(r.Metrics.Bwt),
            Numbers.Percent(r.Metrics.Fwt),
            Numbers.Percent(r.Metrics.Forgetting),
            Numbers.Duration(r.Metrics.TotalSeconds),
        ]));
        doc.Table("Each run: configuration, tasks evaluated so far, measures (%) and wall time.",
            ["run", "configuration", "model", "seed", "tasks", "ACC", "BWT", "FWT", "forgetting", "time"],
            [false, false, false, true, false, true, true, true, true, true],
            rows);

        foreach (var g in groups)
        {
            foreach (var run in g.Runs)
            {
                WriteRun(doc, figures, g, run);
            }
        }
    }

    private static void WriteRun(MarkdownDocument doc, FigureWriter figures, RunGroup g, RunRecord run)
    {
        doc.Heading(3, run.Name);
        string seed = run.Recipe.Seed.ToString(CultureInfo.InvariantCulture);
        doc.Paragraph(run.IsMultiTask
            ? $"{g.Label}, model {run.Recipe.Model}, seed {seed}; trained jointly on {string.Join(", ", run.Metrics.Tasks)}."
            : $"{g.Label}, model {run.Recipe.Model}, seed {seed}; trained in the order {SetupSection.Order(run.Metrics.Tasks)}; " +
              $"{run.CompletedRows} of {run.Metrics.Tasks.Count} tasks done{(run.Metrics.Finished ? string.Empty : ", still running")}.");

        string heatmap = figures.Save(AccuracyHeatmapChart.Build(run), $"accuracy-{run.Name}");
        doc.Figure(heatmap, $"accuracy matrix of {run.Name}", run.IsMultiTask
            ? $"Accuracy (%) of {run.Name} on each task after joint training on all of them."
            : $"Accuracy (%) of {run.Name} on each task (columns) after training each task (rows); the diagonal is accuracy right after learning a task, and the columns below it show what is kept.");

        if (TaskCurvesChart.Build(run) is { } curves)
        {
            string path = figures.Save(curves, $"tasks-{run.Name}");
            string dotted = run.Metrics.BaselineAccuracy is null ? string.Empty : "; dotted parts come before the task is trained, from the untrained model";
            doc.Figure(path, $"per-task accuracy of {run.Name}",
                $"Accuracy of each task of {run.Name} as training moves through the sequence: a falling solid line is forgetting{dotted}.");
        }
        else
        {
            doc.Paragraph("The multi-task bound trains all tasks at once, so it has one row and no per-task curves.");
        }

        if (LossCurveChart.Build(run) is { } loss)
        {
            string path = figures.Save(loss, $"loss-{run.Name}");
            doc.Figure(path, $"training loss of {run.Name}",
                $"Training loss of {run.Name} at every optimizer step, with a moving average; dashed lines mark where each task starts.");
        }
        else
        {
            doc.Paragraph(run.Loss is null ? "This run has no loss.csv." : "This run's loss.csv has no finite loss yet.");
        }
    }

    /// <summary>"4/4", or "2/4 (running)" for a run in progress.</summary>
    private static string Progress(RunRecord r)
    {
        string done = r.IsMultiTask ? $"{r.CompletedRows}/1 (joint)" : $"{r.CompletedRows}/{r.Metrics.Tasks.Count}";
        return r.Metrics.Finished ? done : $"{done} (running)";
    }
}
