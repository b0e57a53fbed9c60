namespace Migu.Reports.Analysis;

/// <summary>
/// Mean and sample standard deviation (n − 1 in the denominator, as over seeds in the paper's
/// tables) of a set of values. <see cref="Std"/> is null below two values; <see cref="Mean"/> is
/// NaN for none.
/// </summary>
public readonly record struct MeanStd(int Count, double Mean, double? Std)
{
    public static MeanStd Of(IEnumerable<double> values)
    {
        double[] v = [.. values];
        if (v.Length == 0)
        {
            return new MeanStd(0, double.NaN, null);
        }

        double mean = v.Average();
        double? std = v.Length < 2 ? null : Math.Sqrt(v.Sum(x => (x - mean) * (x - mean)) / (v.Length - 1));
        return new MeanStd(v.Length, mean, std);
    }

    /// <summary>Of the values that are present.</summary>
    public static MeanStd Of(IEnumerable<double?> values) => Of(values.Where(x => x.HasValue).Select(x => x!.Value));
}
