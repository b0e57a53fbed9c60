using System.Globalization;
using System.Text;

namespace Migu.Core;

/// <summary>
/// An error the user can cause and fix (a bad option, a file that does not fit, a shape mismatch).
/// The CLI prints its message as one line and exits with code 2; anything else is a bug. The
/// message is kept to that one line here: line breaks and other control characters, which a
/// hostile file can smuggle in through a quoted name or a parser's excerpt of it, are written as
/// escapes (\n, \u001B, …), so no file can break the line or drive the terminal.
/// </summary>
public class MiguUserException : Exception
{
    public MiguUserException()
    {
    }

    public MiguUserException(string message)
        : base(OneLine(message))
    {
    }

    public MiguUserException(string message, Exception innerException)
        : base(OneLine(message), innerException)
    {
    }

    /// <summary><paramref name="text"/> with every control or line-breaking character escaped.</summary>
    public static string OneLine(string? text)
    {
        if (text is null || !text.Any(NeedsEscape))
        {
            return text ?? string.Empty;
        }

        var line = new StringBuilder(text.Length + 16);
        foreach (char c in text)
        {
            line.Append(c switch
            {
                '\n' => "\\n",
                '\r' => "\\r",
                '\t' => "\\t",
                _ when NeedsEscape(c) => string.Create(CultureInfo.InvariantCulture, $"\\u{(int)c:X4}"),
                _ => c.ToString(),
            });
        }

        return line.ToString();
    }

    private static bool NeedsEscape(char c) => char.IsControl(c) || c is '\u2028' or '\u2029';
}
