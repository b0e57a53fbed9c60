using Migu.Core;

namespace Migu.Continual.Pretraining;

/// <summary>
/// Packing: framed documents are concatenated into one stream of ids and cut into sequences of a
/// fixed length, so no position is spent on padding and a long document simply continues in the
/// next sequence (transformers' group_texts). Unlike group_texts, the shorter last piece is kept
/// (padded at collate time) when it has at least <see cref="MinLastLength"/> tokens, so a small corpus still trains.
/// </summary>
public static class SequencePacker
{
    /// <summary>The shortest last piece that is kept: one token to read and one to predict.</summary>
    public const int MinLastLength = 2;

    public static IReadOnlyList<int[]> Pack(IEnumerable<int[]> documents, int length)
    {
        ArgumentNullException.ThrowIfNull(documents);
        if (length < MinLastLength)
        {
            throw new MiguUserException($"seq_len must be at least {MinLastLength}, got {length}");
        }

        var blocks = new List<int[]>();
        var current = new List<int>(length);
        foreach (int[] document in documents)
        {
            int at = 0;
            while (at < document.Length)
            {
                int take = Math.Min(length - current.Count, document.Length - at);
                current.AddRange(document.AsSpan(at, take));
                at += take;
                if (current.Count == length)
                {
                    blocks.Add([.. current]);
                    current.Clear();
                }
            }
        }

        if (current.Count >= MinLastLength)
        {
            blocks.Add([.. current]);
        }

        return blocks;
    }
}
