using ScottPlot;
using SkiaSharp;

namespace Migu.Reports.Charts;

/// <summary>
/// Makes ScottPlot draw all text with fonts embedded in this assembly. SkiaSharp's
/// NoDependencies natives look for fonts only in the system's font folders, and a fresh server may
/// have none, which renders every label as nothing. ScottPlot's font settings are process-wide, so
/// this is done once per process, before the first chart.
/// </summary>
internal static class ReportFonts
{
    /// <summary>The family name the embedded files declare.</summary>
    public const string Family = "DejaVu Sans";

    private static readonly Lazy<EmbeddedFontResolver> Installed = new(Install, LazyThreadSafetyMode.ExecutionAndPublication);

    /// <summary>The resolver in force; installs it on first use.</summary>
    public static EmbeddedFontResolver Resolver => Installed.Value;

    public static void EnsureInstalled() => _ = Installed.Value;

    private static EmbeddedFontResolver Install()
    {
        var resolver = new EmbeddedFontResolver(Load("DejaVuSans.ttf"), Load("DejaVuSans-Bold.ttf"));
        // First in the list, so it answers before ScottPlot's system-font resolver is asked.
        Fonts.FontResolvers.Insert(0, resolver);
        Fonts.Default = Family;
        Fonts.Sans = Family;
        Fonts.Serif = Family;
        Fonts.Monospace = Family;
        return resolver;
    }

    private static SKTypeface Load(string file)
    {
        string name = $"Migu.Reports.Fonts.{file}";
        using Stream stream = typeof(ReportFonts).Assembly.GetManifestResourceStream(name)
            ?? throw new InvalidOperationException($"embedded font {name} is missing from {typeof(ReportFonts).Assembly.GetName().Name}");
        using var bytes = new MemoryStream();
        stream.CopyTo(bytes);
        // The typeface keeps its own reference to the data, so disposing ours is safe.
        using SKData data = SKData.CreateCopy(bytes.ToArray());
        return SKTypeface.FromData(data)
            ?? throw new InvalidOperationException($"embedded font {name} could not be read");
    }
}
