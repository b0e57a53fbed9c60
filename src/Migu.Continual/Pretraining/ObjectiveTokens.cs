using Migu.Core;
using Migu.Models.Tokenizers;

namespace Migu.Continual.Pretraining;

/// <summary>
/// The ids an objective works with, found in a tokenizer by their text: the pad id, RoBERTa's
/// &lt;mask&gt;, T5's sentinels &lt;extra_id_0&gt;, &lt;extra_id_1&gt;, … and the special ids that
/// masked LM never chooses nor draws as a random replacement.
/// </summary>
public sealed record ObjectiveTokens
{
    public const string MaskText = "<mask>";

    /// <summary>The most sentinels looked for (T5's tokenizers have 100).</summary>
    public const int MaxSentinels = 1000;

    /// <summary>Ids 0 … VocabSize − 1 are the tokenizer's (random replacements are drawn among them).</summary>
    public required int VocabSize { get; init; }

    public required int Pad { get; init; }

    public int? Eos { get; init; }

    public int? Mask { get; init; }

    /// <summary>Sentinels[i] is the id of &lt;extra_id_i&gt;.</summary>
    public IReadOnlyList<int> Sentinels { get; init; } = [];

    /// <summary>Ids never chosen for masking nor drawn as replacements: pad, BOS, EOS, mask, sentinels and the tokenizer's other special tokens.</summary>
    public required IReadOnlySet<int> Special { get; init; }

    public static ObjectiveTokens Of(ITextTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        int? mask = SingleId(tokenizer, MaskText);
        var sentinels = new List<int>();
        while (sentinels.Count < MaxSentinels && SingleId(tokenizer, SentinelText(sentinels.Count)) is int id)
        {
            sentinels.Add(id);
        }

        var special = new HashSet<int>(sentinels);
        foreach (int? id in new[] { tokenizer.PadTokenId, tokenizer.BosTokenId, tokenizer.EosTokenId, mask })
        {
            if (id is int i)
            {
                special.Add(i);
            }
        }

        if (tokenizer is SpecialTokenTokenizer withAdded)
        {
            special.UnionWith(withAdded.AddedTokens.Where(t => t.Special).Select(t => t.Id));
        }

        return new ObjectiveTokens
        {
            VocabSize = tokenizer.VocabSize,
            Pad = tokenizer.PadTokenId ?? tokenizer.EosTokenId
                ?? throw new MiguUserException("the tokenizer has neither a pad nor an EOS token; packed sequences need one to pad with"),
            Eos = tokenizer.EosTokenId,
            Mask = mask,
            Sentinels = sentinels,
            Special = special,
        };
    }

    /// <summary>T5's name of sentinel <paramref name="index"/>.</summary>
    public static string SentinelText(int index) => $"<extra_id_{index}>";

    /// <summary>The one id <paramref name="text"/> encodes to when it is a token of its own (an added or special token); null otherwise.</summary>
    private static int? SingleId(ITextTokenizer tokenizer, string text)
    {
        IReadOnlyList<int> ids = tokenizer.Encode(text, addSpecialTokens: false);
        return ids.Count == 1 && tokenizer.Decode(ids, skipSpecialTokens: false) == text ? ids[0] : null;
    }
}
