using System.Globalization;
using Migu.Reports.Analysis;

namespace Migu.Reports.Writing;

/// <summary>How numbers appear in tables, captions and charts: percent with one decimal, invariant culture.</summary>
public static class Numbers
{
    /// <summary>0.7568 → "75.7"; never "-0.0".</summary>
    public static string Percent(double fraction)
    {
        double p = Math.Round(fraction * 100, 1, MidpointRounding.AwayFromZero);
        return (p == 0 ? 0 : p).ToString("0.0", CultureInfo.InvariantCulture);
    }

    /// <summary>"75.7", "75.7 ± 1.2", or "–" when there is nothing to average.</summary>
    public static string Percent(MeanStd m) => m.Count switch
    {
        0 => "–",
        _ when m.Std is { } s => $"{Percent(m.Mean)} ± {Percent(s)}",
        _ => Percent(m.Mean),
    };

    /// <summary>A nullable fraction as percent, "–" when absent.</summary>
    public static string Percent(double? fraction) => fraction is { } f ? Percent(f) : "–";

    /// <summary>A threshold as written in recipes: 0.7, 0.05.</summary>
    public static string Threshold(double t) => t.ToString("0.###", CultureInfo.InvariantCulture);

    /// <summary>A cosine similarity with three decimals (they often differ only there); "–" for NaN.</summary>
    public static string Similarity(double value) =>
        double.IsNaN(value) ? "–" : value.ToString("0.000", CultureInfo.InvariantCulture);

    /// <summary>Seconds as "42 s", "12.5 min" or "3.2 h".</summary>
    public static string Duration(double seconds) => seconds switch
    {
        < 120 => $"{seconds.ToString("0", CultureInfo.InvariantCulture)} s",
        < 7200 => $"{(seconds / 60).ToString("0.0", CultureInfo.InvariantCulture)} min",
        _ => $"{(seconds / 3600).ToString("0.0", CultureInfo.InvariantCulture)} h",
    };
}
