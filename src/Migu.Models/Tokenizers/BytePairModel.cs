namespace Migu.Models.Tokenizers;

/// <summary>
/// A BPE vocabulary and merge list: a word (byte-level characters, or SentencePiece text with "▁")
/// starts as single code points and the adjacent pair with the lowest merge rank is joined, leftmost
/// first among equal ranks, until no pair has a merge, as the tokenizers library's BPE model does.
/// </summary>
internal sealed class BytePairModel
{
    private const int CacheLimit = 20_000;

    private readonly Dictionary<(string, string), int> _ranks;
    private readonly System.Collections.Concurrent.ConcurrentDictionary<string, int[]> _cache = new(StringComparer.Ordinal);

    public BytePairModel(IReadOnlyDictionary<string, int> vocab, IEnumerable<(string Left, string Right)> merges, bool ignoreMerges, int? unkId,
        bool byteFallback = false, bool fuseUnk = false)
    {
        ByteFallback = byteFallback;
        FuseUnk = fuseUnk;
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

    /// <summary>Unknown parts become their UTF-8 bytes as &lt;0xNN&gt; pieces (SentencePiece BPE, Llama).</summary>
    public bool ByteFallback { get; }

    /// <summary>A run of unknown parts gives one unk id.</summary>
    public bool FuseUnk { get; }

    public void Encode(string word, List<int> into)
    {
        if (_cache.TryGetValue(word, out int[]? cached))
        {
            into.AddRange(cached);
            return;
        }

        int[] ids = EncodeUncached(word);
        if (_cache.Count < CacheLimit && word.Length <= 64)
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

        // Symbols as a linked list over code points; candidate merges in a heap ordered by
        // (rank, position), checked on the way out because earlier merges may have changed them.
        var text = new List<string>(word.Length);
        for (int i = 0; i < word.Length; i++)
        {
            int width = char.IsHighSurrogate(word[i]) && i + 1 < word.Length ? 2 : 1;
            text.Add(word.Substring(i, width));
            i += width - 1;
        }

        int n = text.Count;
        var next = new int[n];
        var prev = new int[n];
        var alive = new bool[n];
        for (int i = 0; i < n; i++)
        {
            next[i] = i + 1 < n ? i + 1 : -1;
            prev[i] = i - 1;
            alive[i] = true;
        }

        var queue = new PriorityQueue<(int Left, int Right, string L, string R), (int Rank, int Left)>();
        void Offer(int left, int right)
        {
            if (left >= 0 && right >= 0 && _ranks.TryGetValue((text[left], text[right]), out int rank))
            {
                queue.Enqueue((left, right, text[left], text[right]), (rank, left));
            }
        }

        for (int i = 0; i + 1 < n; i++)
        {
            Offer(i, i + 1);
        }

        while (queue.TryDequeue(out var m, out _))
        {
            if (!alive[m.Left] || !alive[m.Right] || next[m.Left] != m.Right
                || !ReferenceEquals(text[m.Left], m.L) || !ReferenceEquals(text[m.Right], m.R))
            {
                continue; // stale: one side was merged since this pair was queued
            }

            text[m.Left] = m.L + m.R;
            alive[m.Right] = false;
            next[m.Left] = next[m.Right];
            if (next[m.Right] >= 0)
            {
                prev[next[m.Right]] = m.Left;
            }

            Offer(prev[m.Left], m.Left);
            Offer(m.Left, next[m.Left]);
        }

        var ids = new List<int>(n);
        bool lastWasUnk = false;
        for (int i = 0; i >= 0 && i < n; i = next[i])
        {
            string part = text[i];
            if (Vocab.TryGetValue(part, out int id))
            {
                ids.Add(id);
                lastWasUnk = false;
            }
            else if (ByteFallback && TryBytes(part, ids))
            {
                lastWasUnk = false;
            }
            else if (UnkId is int unk && !(FuseUnk && lastWasUnk))
            {
                ids.Add(unk);
                lastWasUnk = true;
            }
        }

        return [.. ids];
    }

    /// <summary>SentencePiece byte fallback: the part's UTF-8 bytes as &lt;0xNN&gt; pieces, when all exist.</summary>
    private bool TryBytes(string part, List<int> ids)
    {
        byte[] bytes = System.Text.Encoding.UTF8.GetBytes(part);
        var found = new int[bytes.Length];
        for (int i = 0; i < bytes.Length; i++)
        {
            if (!Vocab.TryGetValue($"<0x{bytes[i]:X2}>", out found[i]))
            {
                return false;
            }
        }

        ids.AddRange(found);
        return true;
    }
}
