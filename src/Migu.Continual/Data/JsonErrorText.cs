using System.Text.Json;

namespace Migu.Continual.Data;

/// <summary>System.Text.Json's parse errors as one line of ours: its reason, without the position suffix it appends.</summary>
internal static class JsonErrorText
{
    /// <summary>"'}' is invalid after a value…", without " LineNumber: 2 | BytePositionInLine: 4.".</summary>
    public static string Reason(JsonException e)
    {
        string message = e.Message;
        int cut = message.IndexOf(" LineNumber:", StringComparison.Ordinal);
        return (cut >= 0 ? message[..cut] : message).Trim();
    }

    /// <summary>"line 3, byte 20" (both counted from 1).</summary>
    public static string Position(JsonException e) => $"line {e.LineNumber + 1}, byte {e.BytePositionInLine + 1}";
}
