using System.Globalization;
using System.Text.Json;

namespace Migu.Models.Checkpoints;

/// <summary>
/// Float fields of a config.json. transformers 5 validates config fields by type and rejects an
/// integer where a float is declared (T5's <c>initializer_factor: 1</c> fails to load), while
/// <see cref="Utf8JsonWriter.WriteNumber(string, double)"/> writes 1.0 as <c>1</c>; so a float
/// always carries a decimal point or an exponent.
/// </summary>
internal static class ConfigJsonFloats
{
    public static void WriteFloat(this Utf8JsonWriter writer, string name, double value)
    {
        string text = value.ToString("R", CultureInfo.InvariantCulture);
        if (!text.Contains('.', StringComparison.Ordinal) && !text.Contains('E', StringComparison.Ordinal))
        {
            text += ".0";
        }

        writer.WritePropertyName(name);
        writer.WriteRawValue(text);
    }
}
