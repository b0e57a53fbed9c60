using System.Globalization;
using System.Text.RegularExpressions;
using Migu.Core;

namespace Migu.Models.Tokenizers;

/// <summary>
/// Finds the matches of a pre-tokenizer pattern as the Rust tokenizers library (Oniguruma) does,
/// over code points. .NET's Regex works on UTF-16 units, so a character outside the BMP (emoji,
/// rare CJK) would be two "surrogate" units that match neither \p{L} nor a one-unit class the
/// way a code point does. We run the pattern over a shadow string with one unit per code point,
/// each astral code point replaced by a BMP stand-in of the same general category, and map the
/// match bounds back.
/// </summary>
internal sealed class UnicodeRegexSplitter
{
    /// <summary>GPT-2's pattern, used by the ByteLevel pre-tokenizer when use_regex is on.</summary>
    public const string Gpt2Pattern = @"'s|'t|'re|'ve|'m|'ll|'d| ?\p{L}+| ?\p{N}+| ?[^\s\p{L}\p{N}]+|\s+(?!\S)|\s+";

    /// <summary>A pattern from a file may backtrack catastrophically; no real pre-tokenizer needs this long for one text.</summary>
    public static readonly TimeSpan MatchTimeout = TimeSpan.FromSeconds(2);

    private readonly Regex _regex;
    private readonly string _source;

    /// <param name="pattern">The regular expression.</param>
    /// <param name="source">The file it comes from, named when it is not valid or runs too long.</param>
    public UnicodeRegexSplitter(string pattern, string source = "pre-tokenizer")
    {
        _source = source;
        try
        {
            _regex = new Regex(pattern, RegexOptions.CultureInvariant | RegexOptions.Compiled, MatchTimeout);
        }
        catch (ArgumentException e)
        {
            throw new MiguUserException($"{source}: pre-tokenizer pattern '{pattern}' is not a regular expression .NET can run ({e.Message}).", e);
        }
    }

    /// <summary>Pieces of <paramref name="text"/>: the matches and, between them, the unmatched gaps (tokenizers' "isolated" split).</summary>
    public List<string> Split(string text)
    {
        try
        {
            return SplitOnce(text);
        }
        catch (RegexMatchTimeoutException e)
        {
            throw new MiguUserException($"{_source}: the pre-tokenizer pattern ran past {MatchTimeout.TotalSeconds:0} s on a text of {text.Length} characters.", e);
        }
    }

    private List<string> SplitOnce(string text)
    {
        var pieces = new List<string>();
        if (text.Length == 0)
        {
            return pieces;
        }

        (string shadow, int[] start) = Shadow(text);
        int previous = 0; // in shadow units (code points)
        for (Match m = _regex.Match(shadow); m.Success; m = m.NextMatch())
        {
            if (m.Length == 0)
            {
                continue;
            }

            if (m.Index > previous)
            {
                pieces.Add(text[start[previous]..start[m.Index]]);
            }

            pieces.Add(text[start[m.Index]..start[m.Index + m.Length]]);
            previous = m.Index + m.Length;
        }

        if (previous < shadow.Length)
        {
            pieces.Add(text[start[previous]..]);
        }

        return pieces;
    }

    /// <summary>One unit per code point, and where each code point starts in <paramref name="text"/> (plus the end).</summary>
    private static (string Shadow, int[] Start) Shadow(string text)
    {
        var shadow = new char[text.Length];
        var start = new int[text.Length + 1];
        int n = 0;
        for (int i = 0; i < text.Length; n++)
        {
            start[n] = i;
            if (char.IsHighSurrogate(text[i]) && i + 1 < text.Length && char.IsLowSurrogate(text[i + 1]))
            {
                shadow[n] = StandIn(CharUnicodeInfo.GetUnicodeCategory(char.ConvertToUtf32(text[i], text[i + 1])));
                i += 2;
            }
            else
            {
                shadow[n] = text[i];
                i++;
            }
        }

        start[n] = text.Length;
        return (new string(shadow, 0, n), start[..(n + 1)]);
    }

    /// <summary>A BMP character of the same general category, chosen not to be a literal patterns usually name.</summary>
    private static char StandIn(UnicodeCategory category) => category switch
    {
        UnicodeCategory.UppercaseLetter => '\u0100',
        UnicodeCategory.LowercaseLetter => '\u0101',
        UnicodeCategory.TitlecaseLetter => '\u01C5',
        UnicodeCategory.ModifierLetter => '\u02B0',
        UnicodeCategory.OtherLetter => '\u4E2D',
        UnicodeCategory.DecimalDigitNumber => '\u0660',
        UnicodeCategory.LetterNumber => '\u2160',
        UnicodeCategory.OtherNumber => '\u00B2',
        UnicodeCategory.NonSpacingMark => '\u0300',
        UnicodeCategory.SpacingCombiningMark => '\u0903',
        UnicodeCategory.EnclosingMark => '\u20DD',
        UnicodeCategory.MathSymbol => '\u2211',
        UnicodeCategory.CurrencySymbol => '\u20AC',
        UnicodeCategory.ModifierSymbol => '\u02C2',
        UnicodeCategory.ConnectorPunctuation => '\u203F',
        UnicodeCategory.DashPunctuation => '\u2013',
        UnicodeCategory.OpenPunctuation => '\u2045',
        UnicodeCategory.ClosePunctuation => '\u2046',
        UnicodeCategory.InitialQuotePunctuation => '\u00AB',
        UnicodeCategory.FinalQuotePunctuation => '\u00BB',
        UnicodeCategory.OtherPunctuation => '\u00B6',
        UnicodeCategory.Format => '\u200B',
        UnicodeCategory.PrivateUse => '\uE000',
        UnicodeCategory.OtherNotAssigned => '\u0378',
        _ => '\u00A9', // OtherSymbol (emoji) and anything else
    };
}
