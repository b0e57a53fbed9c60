namespace Migu.Models.Tokenizers;

/// <summary>What every tokenizer with added tokens and a template shares, as read from its files.</summary>
internal abstract class SpecialTokenSettings
{
    public required IReadOnlyList<AddedToken> AddedTokens { get; init; }

    /// <summary>Ids the post-processor puts before one sequence (e.g. BOS, &lt;s&gt;).</summary>
    public IReadOnlyList<int> Prefix { get; init; } = [];

    /// <summary>Ids the post-processor puts after one sequence (e.g. &lt;/s&gt;).</summary>
    public IReadOnlyList<int> Suffix { get; init; } = [];

    public bool CleanUpTokenizationSpaces { get; init; }

    public int? BosTokenId { get; init; }

    public int? EosTokenId { get; init; }

    public int? PadTokenId { get; init; }
}

/// <summary>
/// The part of encoding every family shares: added tokens are cut out of the raw text first and
/// map straight to their ids; each other segment goes to the family's model; the template's ids go
/// around the result when special tokens are asked for.
/// </summary>
public abstract class SpecialTokenTokenizer : ITextTokenizer
{
    private readonly SpecialTokenSettings settings;
    private readonly AddedTokenSplitter splitter;

    private protected SpecialTokenTokenizer(SpecialTokenSettings settings, IEnumerable<int> modelIds)
    {
        this.settings = settings;
        splitter = new AddedTokenSplitter(settings.AddedTokens);
        AddedById = settings.AddedTokens.GroupBy(t => t.Id).ToDictionary(g => g.Key, g => g.First());
        int maxId = modelIds.DefaultIfEmpty(-1).Max();
        foreach (AddedToken token in settings.AddedTokens)
        {
            maxId = Math.Max(maxId, token.Id);
        }

        VocabSize = maxId + 1;
    }

    /// <summary>Ids 0 … VocabSize−1 (transformers' len(tokenizer): vocabulary plus added tokens).</summary>
    public int VocabSize { get; }

    public int? BosTokenId => settings.BosTokenId;

    public int? EosTokenId => settings.EosTokenId;

    public int? PadTokenId => settings.PadTokenId;

    public IReadOnlyList<AddedToken> AddedTokens => settings.AddedTokens;

    /// <summary>Added tokens by id, for decoding.</summary>
    private protected Dictionary<int, AddedToken> AddedById { get; }

    /// <summary>Whether decoded text gets transformers' clean_up_tokenization_spaces.</summary>
    private protected bool CleanUpTokenizationSpaces => settings.CleanUpTokenizationSpaces;

    public IReadOnlyList<int> Encode(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        var ids = new List<int>();
        if (addSpecialTokens)
        {
            ids.AddRange(settings.Prefix);
        }

        foreach (AddedTokenSplitter.Piece segment in splitter.Split(text))
        {
            if (segment.Token is not null)
            {
                ids.Add(segment.Token.Id);
            }
            else
            {
                EncodeSegment(segment, ids);
            }
        }

        if (addSpecialTokens)
        {
            ids.AddRange(settings.Suffix);
        }

        return ids;
    }

    public abstract string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true);

    /// <summary>Appends the ids of one stretch of text that holds no added token.</summary>
    private protected abstract void EncodeSegment(AddedTokenSplitter.Piece segment, List<int> ids);
}
