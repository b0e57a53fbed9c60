using System.Text.Json;
using Microsoft.ML.Tokenizers;
using Migu.Core.IO;

namespace Migu.Models.Tokenizers;

/// <summary>Tokenizers that ship inside the library, for models trained from scratch.</summary>
public static class EmbeddedTokenizer
{
    /// <summary>The id of &lt;|endoftext|&gt; in GPT-2's vocabulary.</summary>
    public const int Gpt2EndOfText = 50256;

    private static readonly Lazy<TiktokenTokenizer> R50kBase = new(() => TiktokenTokenizer.CreateForEncoding("r50k_base"));

    /// <summary>
    /// GPT-2's byte-level BPE (tiktoken "r50k_base", from Microsoft.ML.Tokenizers.Data.R50kBase):
    /// 50257 ids, &lt;|endoftext|&gt; = 50256 is EOS and BOS, and, since GPT-2 has no pad token, also
    /// the pad id (as transformers users set pad_token = eos_token); the attention mask, not the id,
    /// marks padding, and labels there should be −100. No special tokens are added on encode, as
    /// transformers' GPT2Tokenizer does.
    /// </summary>
    public static ITextTokenizer Gpt2() => new TiktokenTextTokenizer(R50kBase.Value, vocabSize: 50257, Gpt2EndOfText);

    /// <summary>The name <see cref="Compact"/> goes by in recipes and checkpoints.</summary>
    public const string CompactName = "compact-2k";

    private static readonly string[] CompactFiles = ["tokenizer.json", "tokenizer_config.json"];

    /// <summary>
    /// A 2048-entry byte-level BPE learned from the shared task data (Embedded/compact-2k/PROVENANCE.md):
    /// &lt;pad&gt; 0, &lt;/s&gt; 1 (EOS), &lt;s&gt; 2 (BOS); no special tokens are added on encode. Small enough
    /// that a tiny model trained from scratch spends little on its embedding and softmax.
    /// </summary>
    public static ByteLevelBpeTokenizer Compact()
    {
        JsonElement root = ParseResource("tokenizer.json");
        var config = TokenizerConfig.FromJson(ParseResource("tokenizer_config.json"));
        return ByteLevelBpeLoader.FromTokenizerJson(root, $"embedded {CompactName}/tokenizer.json", config);
    }

    /// <summary>Writes the compact tokenizer's files into <paramref name="directory"/> (beside a checkpoint), atomically.</summary>
    public static void WriteCompactFiles(string directory)
    {
        foreach (string file in CompactFiles)
        {
            using Stream stream = OpenResource(file);
            using var memory = new MemoryStream();
            stream.CopyTo(memory);
            AtomicFile.WriteAllBytes(Path.Combine(directory, file), memory.ToArray());
        }
    }

    private static JsonElement ParseResource(string file)
    {
        using Stream stream = OpenResource(file);
        using JsonDocument doc = JsonDocument.Parse(stream);
        return doc.RootElement.Clone();
    }

    private static Stream OpenResource(string file) =>
        typeof(EmbeddedTokenizer).Assembly.GetManifestResourceStream($"Migu.Models.Tokenizers.Embedded.{CompactName}/{file}")
        ?? throw new InvalidOperationException($"the embedded tokenizer file {CompactName}/{file} is missing from the assembly");
}

/// <summary>A tiktoken vocabulary with one end-of-text token that doubles as BOS, EOS and pad.</summary>
internal sealed class TiktokenTextTokenizer(TiktokenTokenizer tokenizer, int vocabSize, int endOfText) : ITextTokenizer
{
    public int VocabSize => vocabSize;

    public int? BosTokenId => endOfText;

    public int? EosTokenId => endOfText;

    public int? PadTokenId => endOfText;

    public IReadOnlyList<int> Encode(string text, bool addSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(text);
        return tokenizer.EncodeToIds(text);
    }

    public string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true)
    {
        ArgumentNullException.ThrowIfNull(ids);
        return tokenizer.Decode(skipSpecialTokens ? ids.Where(id => id != endOfText) : ids);
    }
}
