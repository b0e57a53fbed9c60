namespace Migu.Reports.Charts;

/// <summary>The y axis of the distribution chart.</summary>
public enum DistributionScale
{
    /// <summary>Log when the shares span more than <see cref="MagnitudeDistributionChart.AutoLogRatio"/>× (a nearly flat layer reads better on a linear axis).</summary>
    Auto,

    Log,

    Linear,
}
