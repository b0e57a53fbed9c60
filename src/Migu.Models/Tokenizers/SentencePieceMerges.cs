namespace Migu.Models.Tokenizers;

/// <summary>
/// BPE merges recovered from a SentencePiece BPE model's pieces and scores, for a tokenizer.model
/// without a tokenizer.json: every piece that splits into two pieces of the vocabulary gives those
/// merges; higher-scoring results merge first; among equal scores the vocabulary order holds, and
/// within one piece the split with the shorter left part comes first — the order transformers 5's
/// SentencePiece converter writes (checked against its tokenizer.json in the tests).
/// </summary>
internal static class SentencePieceMerges
{
    public static List<(string, string)> Derive(List<(string Piece, float Score, int Type)> pieces, IReadOnlyDictionary<string, int> vocab)
    {
        var merges = new List<(string Left, string Right, float Score, int Order)>();
        int order = 0;
        foreach ((string piece, float score, _) in pieces)
        {
            var local = new List<(string Left, string Right)>();
            for (int i = 1; i < piece.Length; i++)
            {
                if (char.IsLowSurrogate(piece[i]))
                {
                    continue; // split between code points only
                }

                string left = piece[..i];
                string right = piece[i..];
                if (vocab.ContainsKey(left) && vocab.ContainsKey(right))
                {
                    local.Add((left, right));
                }
            }

            foreach ((string left, string right) in local)
            {
                merges.Add((left, right, score, order++));
            }
        }

        return [.. merges.OrderByDescending(m => m.Score).ThenBy(m => m.Order).Select(m => (m.Left, m.Right))];
    }
}
