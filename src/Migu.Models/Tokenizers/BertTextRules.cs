using System.Globalization;
using System.Text;
using System.Text.Json;

namespace Migu.Models.Tokenizers;

/// <summary>How BERT's normalizer treats text (tokenizers' BertNormalizer; transformers' BasicTokenizer flags).</summary>
public sealed record BertNormalizerOptions
{
    /// <summary>Drop NUL, U+FFFD and control/format/unassigned characters; every whitespace character becomes a space.</summary>
    public bool CleanText { get; init; } = true;

    /// <summary>Put spaces around CJK ideographs, so each becomes a word of its own.</summary>
    public bool HandleChineseChars { get; init; } = true;

    /// <summary>Canonical decomposition (NFD), then nonspacing marks dropped; null means "as Lowercase", as transformers does.</summary>
    public bool? StripAccents { get; init; }

    public bool Lowercase { get; init; } = true;
}

/// <summary>
/// BERT's text rules as Hugging Face's tokenizers library applies them (BertNormalizer, then
/// BertPreTokenizer), character by character over Unicode scalar values. Decomposition comes from
/// an embedded table (tools/make_nfd_table.py) so the library and the CLI, which runs with
/// invariant globalization and so without .NET's normalization, decompose alike.
/// </summary>
internal static class BertTextRules
{
    private static readonly Lazy<Dictionary<int, int[]>> Decompositions = new(LoadDecompositions);

    /// <summary>Normalized text: cleaned, CJK spaced, accents stripped, lower-cased (in tokenizers' order).</summary>
    public static string Normalize(string text, BertNormalizerOptions options)
    {
        var sb = new StringBuilder(text.Length + 8);
        foreach (Rune r in text.EnumerateRunes())
        {
            if (options.CleanText)
            {
                if (r.Value is 0 or 0xFFFD || IsControl(r))
                {
                    continue;
                }

                if (IsWhitespace(r))
                {
                    sb.Append(' ');
                    continue;
                }
            }

            if (options.HandleChineseChars && IsCjk(r.Value))
            {
                sb.Append(' ').Append(r.ToString()).Append(' ');
            }
            else
            {
                sb.Append(r.ToString());
            }
        }

        if (options.StripAccents ?? options.Lowercase)
        {
            sb = StripAccents(sb.ToString());
        }

        return options.Lowercase ? Lower(sb.ToString()) : sb.ToString();
    }

    /// <summary>BertPreTokenizer: split on whitespace (dropped) and around every punctuation character (kept as a word).</summary>
    public static List<string> PreTokenize(string text)
    {
        var words = new List<string>();
        int start = -1;
        int i = 0;
        while (i < text.Length)
        {
            Rune.DecodeFromUtf16(text.AsSpan(i), out Rune r, out int width);
            if (IsWhitespace(r) || IsPunctuation(r))
            {
                if (start >= 0)
                {
                    words.Add(text[start..i]);
                    start = -1;
                }

                if (!IsWhitespace(r))
                {
                    words.Add(text.Substring(i, width));
                }
            }
            else if (start < 0)
            {
                start = i;
            }

            i += width;
        }

        if (start >= 0)
        {
            words.Add(text[start..]);
        }

        return words;
    }

    /// <summary>Rust's char::is_whitespace (the White_Space property); tab, newline and carriage return among them.</summary>
    public static bool IsWhitespace(Rune r) => r.Value switch
    {
        >= 0x09 and <= 0x0D or 0x20 or 0x85 or 0xA0 or 0x1680 or >= 0x2000 and <= 0x200A or 0x2028 or 0x2029 or 0x202F or 0x205F or 0x3000 => true,
        _ => false,
    };

    /// <summary>Other (Cc, Cf, Cn, Co, Cs) except tab, newline and carriage return, which count as whitespace.</summary>
    public static bool IsControl(Rune r) => r.Value is not ('\t' or '\n' or '\r') && Rune.GetUnicodeCategory(r) is
        UnicodeCategory.Control or UnicodeCategory.Format or UnicodeCategory.OtherNotAssigned
        or UnicodeCategory.PrivateUse or UnicodeCategory.Surrogate;

    /// <summary>ASCII punctuation (which includes symbols such as $, +, ^ and |) or any Unicode punctuation category.</summary>
    public static bool IsPunctuation(Rune r) =>
        r.Value is >= 0x21 and <= 0x2F or >= 0x3A and <= 0x40 or >= 0x5B and <= 0x60 or >= 0x7B and <= 0x7E
        || Rune.GetUnicodeCategory(r) is UnicodeCategory.ConnectorPunctuation or UnicodeCategory.DashPunctuation
            or UnicodeCategory.OpenPunctuation or UnicodeCategory.ClosePunctuation or UnicodeCategory.InitialQuotePunctuation
            or UnicodeCategory.FinalQuotePunctuation or UnicodeCategory.OtherPunctuation;

    /// <summary>The CJK Unified Ideographs blocks and their extensions and compatibility forms (not kana or hangul), as BERT defines them.</summary>
    public static bool IsCjk(int c) =>
        c is >= 0x4E00 and <= 0x9FFF or >= 0x3400 and <= 0x4DBF or >= 0x20000 and <= 0x2A6DF or >= 0x2A700 and <= 0x2B73F
            or >= 0x2B740 and <= 0x2B81F or >= 0x2B820 and <= 0x2CEAF or >= 0xF900 and <= 0xFAFF or >= 0x2F800 and <= 0x2FA1F;

    /// <summary>NFD (table, and the Hangul syllable rule), dropping nonspacing marks (Mn).</summary>
    private static StringBuilder StripAccents(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (Rune r in text.EnumerateRunes())
        {
            AppendDecomposed(sb, r.Value);
        }

        return sb;
    }

    private static void AppendDecomposed(StringBuilder sb, int c)
    {
        const int SBase = 0xAC00, LBase = 0x1100, VBase = 0x1161, TBase = 0x11A7, TCount = 28, NCount = 588, SCount = 11172;
        if (c is >= SBase and < SBase + SCount)
        {
            int s = c - SBase;
            sb.Append((char)(LBase + (s / NCount))).Append((char)(VBase + (s % NCount / TCount)));
            if (s % TCount != 0)
            {
                sb.Append((char)(TBase + (s % TCount)));
            }

            return;
        }

        if (Decompositions.Value.TryGetValue(c, out int[]? parts))
        {
            foreach (int p in parts)
            {
                AppendKept(sb, p);
            }

            return;
        }

        AppendKept(sb, c);
    }

    private static void AppendKept(StringBuilder sb, int c)
    {
        var r = new Rune(c);
        if (Rune.GetUnicodeCategory(r) != UnicodeCategory.NonSpacingMark)
        {
            sb.Append(r.ToString());
        }
    }

    /// <summary>
    /// Full lower-case mapping per character, as Rust's char::to_lowercase: the simple mapping,
    /// except U+0130 (İ), whose full mapping is i + combining dot above (invariant .NET leaves it).
    /// </summary>
    private static string Lower(string text)
    {
        var sb = new StringBuilder(text.Length);
        foreach (Rune r in text.EnumerateRunes())
        {
            if (r.Value == 0x130)
            {
                sb.Append("i\u0307");
            }
            else
            {
                sb.Append(Rune.ToLowerInvariant(r).ToString());
            }
        }

        return sb.ToString();
    }

    private static Dictionary<int, int[]> LoadDecompositions()
    {
        using Stream stream = typeof(BertTextRules).Assembly.GetManifestResourceStream("Migu.Models.Tokenizers.Embedded.unicode/nfd.json")
            ?? throw new InvalidOperationException("the embedded NFD table is missing from Migu.Models");
        using JsonDocument doc = JsonDocument.Parse(stream);
        var table = new Dictionary<int, int[]>();
        foreach (JsonProperty p in doc.RootElement.GetProperty("nfd").EnumerateObject())
        {
            int[] parts = [.. p.Value.GetString()!.Split(' ').Select(h => int.Parse(h, NumberStyles.HexNumber, CultureInfo.InvariantCulture))];
            table[int.Parse(p.Name, NumberStyles.HexNumber, CultureInfo.InvariantCulture)] = parts;
        }

        return table;
    }
}
