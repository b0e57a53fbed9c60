using Migu.Models.Tokenizers;

namespace Migu.Models;

/// <summary>
/// The ids put around each document before packing, as a family reads text
/// (<see cref="ModelFamily.Framing"/>): RoBERTa &lt;s&gt; … &lt;/s&gt;, Llama BOS … EOS (so a
/// document's end is learned and the next one starts fresh), T5 … &lt;/s&gt;. An id the tokenizer lacks is left out.
/// </summary>
public sealed record TextFraming(int? Start, int? End)
{
    /// <summary>A document's ids with the framing (no other special tokens).</summary>
    public int[] Encode(ITextTokenizer tokenizer, string document)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        IReadOnlyList<int> ids = tokenizer.Encode(document, addSpecialTokens: false);
        var framed = new int[ids.Count + (Start is null ? 0 : 1) + (End is null ? 0 : 1)];
        int at = 0;
        if (Start is int s)
        {
            framed[at++] = s;
        }

        foreach (int id in ids)
        {
            framed[at++] = id;
        }

        if (End is int e)
        {
            framed[at] = e;
        }

        return framed;
    }
}
