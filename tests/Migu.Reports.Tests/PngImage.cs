using SkiaSharp;

namespace Migu.Reports.Tests;

/// <summary>Decodes an image file and measures it, for checks that a chart really is a picture.</summary>
internal static class PngImage
{
    public static (int Width, int Height) Size(string path)
    {
        using var bitmap = SKBitmap.Decode(path);
        Assert.True(bitmap is not null, $"{path} is not a decodable image");
        return (bitmap.Width, bitmap.Height);
    }

    /// <summary>Pixels clearly darker than the white background (text, lines, filled cells).</summary>
    public static int DarkPixels(byte[] png)
    {
        using var bitmap = SKBitmap.Decode(png);
        int dark = 0;
        for (int y = 0; y < bitmap.Height; y++)
        {
            for (int x = 0; x < bitmap.Width; x++)
            {
                SKColor c = bitmap.GetPixel(x, y);
                if (c.Red + c.Green + c.Blue < 300)
                {
                    dark++;
                }
            }
        }

        return dark;
    }
}
