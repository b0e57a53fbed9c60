using Migu.Core.IO;
using Migu.Reports.Analysis;
using Migu.Reports.Store;

namespace Migu.Reports.Writing;

/// <summary>
/// Writes report.md and its figures from run records. The output depends only on the runs, not on
/// the order they were given in or on the clock, so a report can be checked against an approved copy.
/// </summary>
public static class ReportGenerator
{
    public const string ReportFileName = "report.md";

    /// <summary>Reads the run directories and writes the report; <see cref="Migu.Core.MiguUserException"/> for bad input.</summary>
    public static ReportResult Write(IEnumerable<string> runDirectories, ReportOptions options) =>
        Write(RunReader.LoadAll(runDirectories), options);

    public static ReportResult Write(IReadOnlyList<RunRecord> runs, ReportOptions options)
    {
        if (runs.Count == 0)
        {
            throw new Migu.Core.MiguUserException("no run directory given");
        }

        var (groups, taskSets) = RunGrouping.Group(runs);
        var sweeps = ThresholdSweepFinder.Find(groups);
        string outDir = Path.GetFullPath(options.OutDirectory);
        var figures = new FigureWriter(outDir, options.Format);
        var doc = new MarkdownDocument();

        SetupSection.Write(doc, groups, taskSets);
        ComparisonSection.Write(doc, figures, groups, taskSets);
        SweepSection.Write(doc, figures, sweeps);
        RunSection.Write(doc, figures, groups);

        // Last, so report.md never links an image that is not there yet.
        string reportPath = Path.Combine(outDir, ReportFileName);
        AtomicFile.WriteAllText(reportPath, doc.ToString());
        return new ReportResult
        {
            ReportPath = reportPath,
            Images = figures.Written,
            Groups = groups,
            TaskSets = taskSets,
            Sweeps = sweeps,
        };
    }
}
