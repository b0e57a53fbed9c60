namespace Migu.Models.Tokenizers;

/// <summary>
/// A BPE vocabulary and merge list: a word (already in byte-level characters) starts as single
/// characters and the adjacent pair with the lowest merge rank is joined, leftmost first among
/// equal ranks, until no pair has a merge, as the tokenizers library's BPE model does.
/// </summary>
internal sealed class BytePairModel
{
    private const int CacheLimit = 20_000;

    private readonly Dictionary<(string, string), int> _ranks;
    private readonly Dictionary<string, int[]> _cache = new(StringComparer.Ordinal);

    public BytePairModel(IReadOnlyDictionary<string, int> vocab, IEnumerable<(string Left, string Right)> merges, bool ignoreMerges, int? unkId)
    {
        Vocab = vocab;
        IgnoreMerges = ignoreMerges;
        UnkId = unkId;
        _ranks = new Dictionary<(string, string), int>();
        int rank = 0;
        foreach ((string left, string right) in merges)
        {
            _ranks.TryAdd((left, right), rank++);
        }

        IdToToken = new Dictionary<int, string>(vocab.Count);
        foreach ((string token, int id) in vocab)
        {
            IdToToken[id] = token;
        }
    }

    public IReadOnlyDictionary<string, int> Vocab { get; }

    public Dictionary<int, string> IdToToken { get; }

    /// <summary>Llama 3's ignore_merges: a word that is itself in the vocabulary is one token.</summary>
    public bool IgnoreMerges { get; }

    public int? UnkId { get; }

    public void Encode(string word, List<int> into)
    {
        if (_cache.TryGetValue(word, out int[]? cached))
        {
            into.AddRange(cached);
            return;
        }

        int[] ids = EncodeUncached(word);
        if (_cache.Count < CacheLimit)
        {
            _cache[word] = ids;
        }

        into.AddRange(ids);
    }

    private int[] EncodeUncached(string word)
    {
        if (IgnoreMerges && Vocab.TryGetValue(word, out int whole))
        {
            return [whole];
        }

        var parts = new List<string>(word.Length);
        for (int i = 0; i < word.Length; i++)
        {
            int width = char.IsHighSurrogate(word[i]) && i + 1 < word.Length ? 2 : 1;
            parts.Add(word.Substring(i, width));
            i += width - 1;
        }

        while (parts.Count > 1)
        {
            int best = -1;
            int bestRank = int.MaxValue;
            for (int i = 0; i + 1 < parts.Count; i++)
            {
                if (_ranks.TryGetValue((parts[i], parts[i + 1]), out int rank) && rank < bestRank)
                {
                    bestRank = rank;
                    best = i;
                }
            }

            if (best < 0)
            {
                break;
            }

            parts[best] += parts[best + 1];
            parts.RemoveAt(best + 1);
        }

        var ids = new List<int>(parts.Count);
        foreach (string part in parts)
        {
            if (Vocab.TryGetValue(part, out int id))
            {
                ids.Add(id);
            }
            else if (UnkId is int unk)
            {
                ids.Add(unk);
            }
        }

        return [.. ids];
    }
}
