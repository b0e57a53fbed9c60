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
internal sealed class ByteLevelBpeSettings
{
    public required BytePairModel Model { get; init; }

    public required IReadOnlyList<AddedToken> AddedTokens { get; init; }

    public Func<string, string>? Normalizer { get; init; }

    public required IReadOnlyList<IPreTokenizerStep> PreTokenizer { get; init; }

    /// <summary>Ids the post-processor puts before and after one sequence.</summary>
    public IReadOnlyList<int> Prefix { get; init; } = [];

    public IReadOnlyList<int> Suffix { get; init; } = [];

    public bool CleanUpTokenizationSpaces { get; init; }

    public int? BosTokenId { get; init; }

    public int? EosTokenId { get; init; }

    public int? PadTokenId { get; init; }
}

/// <summary>
/// Byte-level BPE (GPT-2, RoBERTa, Llama 3) as the tokenizers library runs it: added tokens are cut
/// out of the raw text first, each other segment is normalized, pre-tokenized (regex split), spelled
/// in byte-level characters and merged by BPE; the post-processor's ids go around the result.
/// Decoding joins tokens, maps the characters back to bytes and reads them as UTF-8 (invalid
/// sequences become U+FFFD, as Rust's from_utf8_lossy does).
/// </summary>
public sealed class ByteLevelBpeTokenizer : ITextTokenizer
{
    private readonly ByteLevelBpeSettings _settings;
    private readonly AddedTokenSplitter _splitter;
    private readonly Dictionary<int, AddedToken> _addedById;

    internal ByteLevelBpeTokenizer(ByteLevelBpeSettings settings)
    {
        _settings = settings;
        _splitter = new AddedTokenSplitter(settings.AddedTokens);
        _addedById = settings.AddedTokens.GroupBy(t => t.Id).ToDictionary(g => g.Key, g => g.First());
        int maxId = settings.Model.IdToToken.Count == 0 ? -1 : settings.Model.IdToToken.Keys.Max();
        foreach (AddedToken token in settings.AddedTokens)
        {
            maxId = Math.Max(maxId, token.Id);
        }

        VocabSize = maxId + 1;
    }

    /// <summary>Ids 0 … VocabSize−1 (transformers' len(tokenizer): vocabulary plus added tokens).</summary>
    public int VocabSize { get; }

    public int? BosTokenId => _settings.BosTokenId;

    public int? EosTokenId => _settings.EosTokenId;

    public int? PadTokenId => _settings.PadTokenId;

    public IReadOnlyList<AddedToken> AddedTokens => _settings.AddedTokens;

    public IReadOnlyList<int> Encode(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        if (addSpecialTokens)
        {
            ids.AddRange(_settings.Prefix);
        }

        var pieces = new List<string>();
        var next = new List<string>();
        foreach (AddedTokenSplitter.Piece segment in _splitter.Split(text))
        {
            if (segment.Token is not null)
            {
                ids.Add(segment.Token.Id);
                continue;
            }

            pieces.Clear();
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

        if (addSpecialTokens)
        {
            ids.AddRange(_settings.Suffix);
        }

        return ids;
    }

    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(ids);
        var bytes = new List<byte>();
        foreach (int id in ids)
        {
            string? token;
            if (_addedById.TryGetValue(id, out AddedToken? added))
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
        return _settings.CleanUpTokenizationSpaces ? TokenizationSpaces.CleanUp(text) : text;
    }
}
