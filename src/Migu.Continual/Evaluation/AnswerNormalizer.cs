using System.Text;

namespace Migu.Continual.Evaluation;

/// <summary>
/// The papers' exact-match normalisation (O-LoRA / MIGU <c>normalize_answer</c>): lower case, drop
/// ASCII punctuation (Python's <c>string.punctuation</c>, the 32 characters
/// <c>!"#$%&amp;'()*+,-./:;&lt;=&gt;?@[\]^_`{|}~</c>), split on whitespace and join with single
/// spaces (which also trims). Articles are kept, unlike SQuAD's variant, as in those papers.
/// </summary>
public static class AnswerNormalizer
{
    public static string Normalize(string text)
    {
        var result = new StringBuilder(text.Length);
        bool pendingSpace = false;
        foreach (char c in text.ToLowerInvariant())
        {
            if (IsAsciiPunctuation(c))
            {
                continue;
            }

            if (char.IsWhiteSpace(c))
            {
                pendingSpace = result.Length > 0;
                continue;
            }

            if (pendingSpace)
            {
                result.Append(' ');
                pendingSpace = false;
            }

            result.Append(c);
        }

        return result.ToString();
    }

    /// <summary>True when the two answers are the same after normalisation.</summary>
    public static bool Same(string a, string b) => string.Equals(Normalize(a), Normalize(b), StringComparison.Ordinal);

    private static bool IsAsciiPunctuation(char c) =>
        c is >= '!' and <= '/' or >= ':' and <= '@' or >= '[' and <= '`' or >= '{' and <= '~';
}
