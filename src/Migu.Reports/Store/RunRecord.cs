using Migu.Continual.Recipes;
using Migu.Continual.Strategies;
using Migu.Continual.Runs;

namespace Migu.Reports.Store;

/// <summary>One run directory as a report sees it.</summary>
public sealed record RunRecord
{
    /// <summary>A short name, unique within one report: the directory's name, with its parent's when two collide.</summary>
    public required string Name { get; init; }

    /// <summary>Full path of the run directory.</summary>
    public required string Directory { get; init; }

    public required Recipe Recipe { get; init; }

    public required RunMetrics Metrics { get; init; }

    /// <summary>The steps of <c>loss.csv</c>; null when the run has none.</summary>
    public IReadOnlyList<LossPoint>? Loss { get; init; }

    /// <summary>Rows of the accuracy matrix so far (tasks trained and evaluated).</summary>
    public int CompletedRows => Metrics.AccuracyMatrix.Count;

    /// <summary>The multi-task bound: one row, after joint training on every task.</summary>
    public bool IsMultiTask => ContinualMethods.Find(Recipe.Method)?.JointPhase == true;
}
