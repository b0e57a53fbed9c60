using System.Text;
using Migu.Reports.Charts;

namespace Migu.Reports.Writing;

/// <summary>Saves charts under OUT/figures with file names unique within the report.</summary>
internal sealed class FigureWriter(string outDirectory, ReportImageFormat format)
{
    public const string Folder = "figures";

    private readonly HashSet<string> _used = new(StringComparer.Ordinal);
    private readonly List<string> _written = [];

    /// <summary>Full paths of the images written so far.</summary>
    public IReadOnlyList<string> Written => _written;

    /// <summary>Writes <paramref name="chart"/> (and disposes it) and returns its path relative to the report.</summary>
    public string Save(ChartImage chart, string stem)
    {
        using (chart)
        {
            string name = UniqueName(Slug(stem));
            string relative = $"{Folder}/{name}{format.Extension()}";
            string full = Path.Combine(outDirectory, Folder, name + format.Extension());
            ChartFile.Save(chart, full, format);
            _written.Add(full);
            return relative;
        }
    }

    /// <summary>Writes a side-by-side <paramref name="chart"/> (and disposes it) and returns its path relative to the report.</summary>
    public string Save(PanelChartImage chart, string stem)
    {
        using (chart)
        {
            string name = UniqueName(Slug(stem));
            string full = Path.Combine(outDirectory, Folder, name + format.Extension());
            chart.Save(full, format);
            _written.Add(full);
            return $"{Folder}/{name}{format.Extension()}";
        }
    }

    /// <summary>Lower-case letters, digits, '.', '_' and '-'; anything else becomes '-'.</summary>
    internal static string Slug(string text)
    {
        var slug = new StringBuilder();
        foreach (char c in text.ToLowerInvariant())
        {
            bool keep = c is (>= 'a' and <= 'z') or (>= '0' and <= '9') or '.' or '_' or '-';
            slug.Append(keep ? c : '-');
        }

        string s = slug.ToString().Trim('-', '.');
        while (s.Contains("--", StringComparison.Ordinal))
        {
            s = s.Replace("--", "-", StringComparison.Ordinal);
        }

        return s.Length == 0 ? "figure" : s;
    }

    private string UniqueName(string slug)
    {
        string name = slug;
        for (int k = 2; !_used.Add(name); k++)
        {
            name = $"{slug}-{k}";
        }

        return name;
    }
}
