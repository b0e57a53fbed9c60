namespace Migu.Models.Tokenizers;

/// <summary>Text ↔ ids with a family's special-token rules, as transformers' tokenizer for that checkpoint.</summary>
public interface ITextTokenizer
{
    int VocabSize { get; }

    int? BosTokenId { get; }

    int? EosTokenId { get; }

    int? PadTokenId { get; }

    /// <summary>Ids of <paramref name="text"/>; with special tokens added as transformers adds them (T5: EOS at the end; Llama: BOS first; RoBERTa: &lt;s&gt; … &lt;/s&gt;).</summary>
    IReadOnlyList<int> Encode(string text, bool addSpecialTokens = true);

    /// <summary>Text of <paramref name="ids"/>, skipping special tokens when asked.</summary>
    string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true);
}
