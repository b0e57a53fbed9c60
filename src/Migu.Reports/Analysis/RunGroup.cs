using Migu.Continual.Recipes;
using Migu.Reports.Store;

namespace Migu.Reports.Analysis;

/// <summary>
/// Runs of one configuration that differ only in their seed (and device): one row of the
/// comparison table. Statistics are over the finished runs; runs in progress are listed but not
/// averaged.
/// </summary>
public sealed record RunGroup
{
    /// <summary>What the row is called, e.g. "ft", "ft+MIGU", "lora+MIGU (update)", "ft+MIGU (T=0.5)".</summary>
    public required string Label { get; init; }

    /// <summary>The runs, by seed then name.</summary>
    public required IReadOnlyList<RunRecord> Runs { get; init; }

    /// <summary>Letter of the group's task list among the report's task sets (A, B, …).</summary>
    public required string TaskSet { get; init; }

    public Recipe Recipe => Runs[0].Recipe;

    public IReadOnlyList<string> Tasks => Runs[0].Metrics.Tasks;

    public IEnumerable<RunRecord> Finished => Runs.Where(r => r.Metrics.Finished);

    public int InProgress => Runs.Count(r => !r.Metrics.Finished);

    public MeanStd Acc => MeanStd.Of(Finished.Select(r => r.Metrics.Acc));

    public MeanStd Bwt => MeanStd.Of(Finished.Select(r => r.Metrics.Bwt));

    public MeanStd Fwt => MeanStd.Of(Finished.Select(r => r.Metrics.Fwt));

    public MeanStd Forgetting => MeanStd.Of(Finished.Select(r => r.Metrics.Forgetting));
}
