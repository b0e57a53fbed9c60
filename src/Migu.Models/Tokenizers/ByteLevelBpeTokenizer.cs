using System.Text;

namespace Migu.Models.Tokenizers;

/// <summary>One pre-tokenizer stage: turns each piece into smaller pieces.</summary>
internal interface IPreTokenizerStep
{
    void Apply(string piece, List<string> into);
}

/// <summary>tokenizers' Split pre-tokenizer with behavior "isolated": matches and gaps become pieces.</summary>
internal sealed class RegexSplitStep(UnicodeRegexSplitter splitter) : IPreTokenizerStep
{
    public void Apply(string piece, List<string> into) => into.AddRange(splitter.Split(piece));
}

/// <summary>tokenizers' ByteLevel pre-tokenizer: optional leading space, optional GPT-2 regex split (the byte mapping follows in the tokenizer).</summary>
internal sealed class ByteLevelStep(bool addPrefixSpace, bool useRegex) : IPreTokenizerStep
{
    private static readonly UnicodeRegexSplitter Gpt2 = new(UnicodeRegexSplitter.Gpt2Pattern);

    public void Apply(string piece, List<string> into)
    {
        if (addPrefixSpace && !piece.StartsWith(' '))
        {
            piece = " " + piece;
        }

        if (useRegex)
        {
            into.AddRange(Gpt2.Split(piece));
        }
        else
        {
            into.Add(piece);
        }
    }
}

/// <summary>What a byte-level BPE tokenizer is made of, as read from tokenizer.json or vocab.json + merges.txt.</summary>
internal sealed class ByteLevelBpeSettings : SpecialTokenSettings
{
    public required BytePairModel Model { get; init; }

    public Func<string, string>? Normalizer { get; init; }

    public required IReadOnlyList<IPreTokenizerStep> PreTokenizer { get; init; }
}

/// <summary>
/// Byte-level BPE (GPT-2, RoBERTa, Llama 3) as the tokenizers library runs it: added tokens are cut
/// out of the raw text first, each other segment is normalized, pre-tokenized (regex split), spelled
/// in byte-level characters and merged by BPE; the post-processor's ids go around the result.
/// Decoding joins tokens, maps the characters back to bytes and reads them as UTF-8 (invalid
/// sequences become U+FFFD, as Rust's from_utf8_lossy does).
/// </summary>
public sealed class ByteLevelBpeTokenizer : SpecialTokenTokenizer
{
    private readonly ByteLevelBpeSettings _settings;

    internal ByteLevelBpeTokenizer(ByteLevelBpeSettings settings)
        : base(settings, settings.Model.IdToToken.Keys)
    {
        _settings = settings;
    }

    private protected override void EncodeSegment(AddedTokenSplitter.Piece segment, List<int> ids)
    {
        var pieces = new List<string>();
        var next = new List<string>();
        pieces.Add(_settings.Normalizer is null ? segment.Text : _settings.Normalizer(segment.Text));
        foreach (IPreTokenizerStep step in _settings.PreTokenizer)
        {
            next.Clear();
            foreach (string piece in pieces)
            {
                step.Apply(piece, next);
            }

            (pieces, next) = (next, pieces);
        }

        foreach (string piece in pieces)
        {
            if (piece.Length > 0)
            {
                _settings.Model.Encode(ByteLevelAlphabet.Encode(piece), ids);
            }
        }
    }

    public override string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var bytes = new List<byte>();
        foreach (int id in ids)
        {
            string? token;
            if (AddedById.TryGetValue(id, out AddedToken? added))
            {
                if (skipSpecialTokens && added.Special)
                {
                    continue;
                }

                token = added.Content;
            }
            else if (!_settings.Model.IdToToken.TryGetValue(id, out token))
            {
                continue; // tokenizers drops ids it does not know
            }

            if (!ByteLevelAlphabet.TryDecode(token, bytes))
            {
                bytes.AddRange(Encoding.UTF8.GetBytes(token));
            }
        }

        string text = Encoding.UTF8.GetString([.. bytes]);
        return CleanUpTokenizationSpaces ? TokenizationSpaces.CleanUp(text) : text;
    }
}
