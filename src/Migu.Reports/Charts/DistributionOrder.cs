namespace Migu.Reports.Charts;

/// <summary>How the output units of the plotted layer are laid out along x.</summary>
public enum DistributionOrder
{
    /// <summary>One order for every task: units by their mean share over tasks, largest first, so a unit keeps its x and task-specific units stand out.</summary>
    Shared,

    /// <summary>Each task's own units sorted largest first: the shape (how concentrated) of each distribution, not which units.</summary>
    Sorted,
}
