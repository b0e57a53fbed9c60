using Migu.Reports.Charts;
using ScottPlot;

namespace Migu.Reports.Tests;

public class ReportFontsTests
{
    [Fact]
    public void Every_typeface_ScottPlot_asks_for_is_the_embedded_one()
    {
        ReportFonts.EnsureInstalled();
        var resolver = ReportFonts.Resolver;
        // A family no machine has: without the embedded resolver ScottPlot would fall back to the system's fonts (or none).
        Assert.Same(resolver.Regular, Fonts.GetTypeface("No Such Family 7f3a", bold: false, italic: false));
        Assert.Same(resolver.Bold, Fonts.GetTypeface("No Such Family 7f3a", bold: true, italic: false));
        Assert.Same(resolver.Regular, Fonts.GetTypeface(Fonts.Default, bold: false, italic: false));
        Assert.Equal("DejaVu Sans", Fonts.Default);
    }

    [Fact]
    public void The_embedded_fonts_are_the_full_DejaVu_Sans_faces()
    {
        var resolver = ReportFonts.Resolver;
        Assert.Equal("DejaVu Sans", resolver.Regular.FamilyName);
        Assert.Equal("DejaVu Sans", resolver.Bold.FamilyName);
        Assert.True(resolver.Bold.IsBold);
        Assert.False(resolver.Regular.IsBold);
        // Glyphs the report draws: digits, ±, the arrow and the minus sign in captions and legends.
        Assert.True(resolver.Regular.ContainsGlyphs("0123456789 ±→−·%"));
        Assert.True(resolver.Regular.GlyphCount > 3000);
    }

    [Fact]
    public void A_title_is_drawn_as_pixels()
    {
        static byte[] Render(string title)
        {
            ReportFonts.EnsureInstalled();
            using Plot plot = new();
            plot.HideAxesAndGrid();
            plot.Title(title, 40);
            return plot.GetImageBytes(300, 120, ImageFormat.Png);
        }

        Assert.Equal(0, PngImage.DarkPixels(Render(string.Empty)));
        Assert.True(PngImage.DarkPixels(Render("ACC 75.7 ± 1.2")) > 300);
    }
}
