namespace Migu.Models.Tokenizers;

/// <summary>
/// The working state of BPE training: every distinct word as a list of symbols with its count,
/// how often each adjacent symbol pair occurs (weighted by word counts), and which words hold a
/// pair, so a merge only revisits the words it touches.
/// </summary>
internal sealed class BpePairCounts
{
    private readonly List<List<string>> symbols = [];
    private readonly List<int> counts = [];
    private readonly Dictionary<(string, string), long> pairCounts = [];
    private readonly Dictionary<(string, string), HashSet<int>> pairWords = [];

    public BpePairCounts(Dictionary<string, int> words)
    {
        // Sorted, so word ids (and everything derived from them) do not depend on hash order.
        foreach (var (word, count) in words.OrderBy(w => w.Key, StringComparer.Ordinal))
        {
            int id = symbols.Count;
            symbols.Add([.. word.Select(c => c.ToString())]);
            counts.Add(count);
            AddPairs(id, +1);
        }
    }

    /// <summary>The most frequent pair that occurs at least twice; ties go to the ordinally smaller pair.</summary>
    public bool TryBest(out (string Left, string Right) best)
    {
        best = default;
        long bestCount = 1;
        foreach (var (pair, count) in pairCounts)
        {
            if (count > bestCount || (count == bestCount && bestCount > 1 && Compare(pair, best) < 0))
            {
                best = pair;
                bestCount = count;
            }
        }

        return bestCount > 1;
    }

    /// <summary>Replaces every occurrence of <paramref name="pair"/> (left to right, non-overlapping) by the joined symbol.</summary>
    public void Merge((string Left, string Right) pair)
    {
        if (!pairWords.TryGetValue(pair, out HashSet<int>? holders))
        {
            return;
        }

        string joined = pair.Left + pair.Right;
        foreach (int id in holders.ToArray())
        {
            List<string> s = symbols[id];
            AddPairs(id, -1);
            for (int i = 0; i < s.Count - 1; i++)
            {
                if (s[i] == pair.Left && s[i + 1] == pair.Right)
                {
                    s[i] = joined;
                    s.RemoveAt(i + 1);
                }
            }

            AddPairs(id, +1);
        }
    }

    private void AddPairs(int id, int sign)
    {
        List<string> s = symbols[id];
        long weight = sign * (long)counts[id];
        for (int i = 0; i < s.Count - 1; i++)
        {
            var pair = (s[i], s[i + 1]);
            long next = pairCounts.GetValueOrDefault(pair) + weight;
            if (next == 0)
            {
                pairCounts.Remove(pair);
                pairWords.Remove(pair);
                continue;
            }

            pairCounts[pair] = next;
            if (sign > 0)
            {
                if (!pairWords.TryGetValue(pair, out HashSet<int>? set))
                {
                    pairWords[pair] = set = [];
                }

                set.Add(id);
            }
        }
    }

    private static int Compare((string, string) a, (string, string) b)
    {
        int c = string.CompareOrdinal(a.Item1, b.Item1);
        return c != 0 ? c : string.CompareOrdinal(a.Item2, b.Item2);
    }
}
