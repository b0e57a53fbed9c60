using System.Text;

namespace Migu.Models.Tokenizers;

/// <summary>How a SentencePiece tokenizer treats text, as transformers' tokenizer.json for that family does.</summary>
internal enum SentencePieceStyle
{
    /// <summary>T5: the model's own normalizer (nmt_nfkc charsmap, whitespace collapsed), "▁" before every word; decoding drops the first token's "▁".</summary>
    T5,

    /// <summary>Llama 2: no normalization, spaces become "▁", one "▁" in front (of the first segment only, unless legacy); byte fallback; decoding strips one leading space.</summary>
    Llama,
}

internal sealed class SentencePieceSettings : SpecialTokenSettings
{
    /// <summary>Encodes one prepared segment (T5: raw text; Llama: "▁"-escaped) and appends its ids.</summary>
    public required Action<string, List<int>> EncodeSegment { get; init; }

    /// <summary>id → piece text, for decoding.</summary>
    public required IReadOnlyDictionary<int, string> Pieces { get; init; }

    public required SentencePieceStyle Style { get; init; }

    /// <summary>Llama: prepend "▁" to the text's first segment (unless it starts with a space).</summary>
    public bool PrependFirstSegment { get; init; } = true;

    /// <summary>Llama legacy: prepend "▁" to every segment between added tokens, not only to the first.</summary>
    public bool PrependEverySegment { get; init; }
}

/// <summary>
/// T5 (unigram) and Llama 2 (BPE with byte fallback) SentencePiece models. T5 is encoded by
/// Microsoft.ML.Tokenizers' SentencePieceTokenizer; Llama 2 by our BPE over the model's merges, since
/// the library breaks ties between equal-score merges differently from SentencePiece and transformers
/// (a run of three spaces: "▁" "▁▁" instead of "▁▁" "▁"). Added tokens (&lt;s&gt;, &lt;/s&gt;, &lt;extra_id_N&gt; …) are
/// cut out of the text first and the "▁" prefix rules and decoding follow transformers' tokenizer.json
/// (Metaspace pre-tokenizer and decoder), which differ from the library's own in those places.
/// </summary>
public sealed class SentencePieceTextTokenizer : SpecialTokenTokenizer
{
    private const char Meta = '\u2581'; // "▁"

    private readonly SentencePieceSettings _settings;
    private readonly IReadOnlyDictionary<int, string> _pieces;

    internal SentencePieceTextTokenizer(SentencePieceSettings settings)
        : base(settings, settings.Pieces.Keys)
    {
        _settings = settings;
        _pieces = settings.Pieces;
    }

    private protected override void EncodeSegment(AddedTokenSplitter.Piece segment, List<int> ids)
    {
        if (_settings.Style == SentencePieceStyle.T5)
        {
            EncodeT5(segment.Text, ids);
        }
        else
        {
            EncodeLlama(segment.Text, (segment.Start == 0 && _settings.PrependFirstSegment) || _settings.PrependEverySegment, ids);
        }
    }

    public override string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var tokens = new List<(string Text, bool Added)>();
        foreach (int id in ids)
        {
            if (AddedById.TryGetValue(id, out AddedToken? added))
            {
                if (!(skipSpecialTokens && added.Special))
                {
                    tokens.Add((added.Content, true));
                }
            }
            else if (_pieces.TryGetValue(id, out string? piece))
            {
                tokens.Add((piece, false));
            }
        }

        string text = _settings.Style == SentencePieceStyle.T5 ? DecodeT5(tokens) : DecodeLlama(tokens);
        return CleanUpTokenizationSpaces ? TokenizationSpaces.CleanUp(text) : text;
    }

    private void EncodeT5(string segment, List<int> ids)
    {
        // Whitespace-only segments give nothing (WhitespaceSplit leaves no word).
        if (!string.IsNullOrWhiteSpace(segment))
        {
            _settings.EncodeSegment(segment, ids);
        }
    }

    private void EncodeLlama(string segment, bool prepend, List<int> ids)
    {
        if (segment.Length == 0)
        {
            return;
        }

        string escaped = segment.Replace(' ', Meta);
        if (prepend && escaped[0] != Meta)
        {
            escaped = Meta + escaped;
        }

        _settings.EncodeSegment(escaped, ids);
    }

    /// <summary>tokenizers' Metaspace decoder: "▁" reads as a space, except in the first token, where it is dropped.</summary>
    private static string DecodeT5(List<(string Text, bool Added)> tokens)
    {
        var text = new StringBuilder();
        for (int i = 0; i < tokens.Count; i++)
        {
            foreach (char c in tokens[i].Text)
            {
                if (c != Meta)
                {
                    text.Append(c);
                }
                else if (i > 0)
                {
                    text.Append(' ');
                }
            }
        }

        return text.ToString();
    }

    /// <summary>Llama's decoder chain: "▁" → space, runs of &lt;0xNN&gt; pieces → UTF-8 (U+FFFD per byte when invalid), joined, one leading space removed.</summary>
    private static string DecodeLlama(List<(string Text, bool Added)> tokens)
    {
        var text = new StringBuilder();
        var bytes = new List<byte>();
        foreach ((string token, bool added) in tokens)
        {
            if (!added && TryByte(token, out byte b))
            {
                bytes.Add(b);
                continue;
            }

            FlushBytes(bytes, text);
            text.Append(token.Replace(Meta, ' '));
        }

        FlushBytes(bytes, text);
        if (text.Length > 0 && text[0] == ' ')
        {
            text.Remove(0, 1);
        }

        return text.ToString();
    }

    private static readonly UTF8Encoding StrictUtf8 = new(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true);

    private static void FlushBytes(List<byte> bytes, StringBuilder text)
    {
        if (bytes.Count == 0)
        {
            return;
        }

        try
        {
            text.Append(StrictUtf8.GetString([.. bytes]));
        }
        catch (DecoderFallbackException)
        {
            text.Append('\uFFFD', bytes.Count);
        }

        bytes.Clear();
    }

    private static bool TryByte(string token, out byte value)
    {
        value = 0;
        return token.Length == 6 && token.StartsWith("<0x", StringComparison.Ordinal) && token[5] == '>'
            && byte.TryParse(token.AsSpan(3, 2), System.Globalization.NumberStyles.HexNumber, null, out value);
    }
}
