using System.Text.Json;
using System.Text.Json.Nodes;
using Migu.Core;
using Migu.Core.IO;

namespace Migu.Models.Tokenizers;

/// <summary>
/// Learns a byte-level BPE vocabulary from text and writes it as a Hugging Face tokenizer.json
/// (+ tokenizer_config.json) that <see cref="TokenizerLoader"/> and transformers both read.
/// Texts are split with GPT-2's pattern and spelled in GPT-2's byte alphabet, so every string
/// encodes (all 256 bytes are in the vocabulary); merges are learned greedily by pair frequency,
/// ties broken by the ordinal order of the pair, so the result is deterministic.
/// </summary>
public static class ByteLevelBpeTrainer
{
    /// <summary>The special tokens, ids 0, 1, 2: T5's convention (pad 0, EOS 1) plus a BOS.</summary>
    public static readonly string[] SpecialTokens = ["<pad>", "</s>", "<s>"];

    /// <summary>Learns merges from <paramref name="texts"/> until the vocabulary has <paramref name="vocabSize"/> entries (or no pair occurs twice).</summary>
    public static TrainedBpe Train(IEnumerable<string> texts, int vocabSize)
    {
        int baseSize = SpecialTokens.Length + 256;
        if (vocabSize < baseSize)
        {
            throw new MiguUserException($"a byte-level BPE vocabulary needs at least {baseSize} entries (3 special tokens and 256 bytes), got {vocabSize}");
        }

        var words = CountWords(texts);
        var merges = new List<(string Left, string Right)>();
        var pairs = new BpePairCounts(words);
        while (SpecialTokens.Length + 256 + merges.Count < vocabSize && pairs.TryBest(out var best))
        {
            merges.Add(best);
            pairs.Merge(best);
        }

        var vocab = new List<string>(SpecialTokens);
        vocab.AddRange(Enumerable.Range(0, 256).Select(b => ByteLevelAlphabet.CharOf((byte)b).ToString()));
        vocab.AddRange(merges.Select(m => m.Left + m.Right));
        return new TrainedBpe(vocab, merges);
    }

    /// <summary>Writes tokenizer.json and tokenizer_config.json for <paramref name="bpe"/> into <paramref name="directory"/>, atomically.</summary>
    public static void Save(TrainedBpe bpe, string directory)
    {
        ArgumentNullException.ThrowIfNull(bpe);
        Directory.CreateDirectory(directory);
        AtomicFile.WriteAllText(Path.Combine(directory, "tokenizer.json"), TokenizerJsonText(bpe));
        AtomicFile.WriteAllText(Path.Combine(directory, "tokenizer_config.json"), ConfigText());
    }

    internal static string TokenizerJsonText(TrainedBpe bpe)
    {
        var vocab = new JsonObject();
        for (int i = 0; i < bpe.Vocabulary.Count; i++)
        {
            vocab[bpe.Vocabulary[i]] = i;
        }

        var added = new JsonArray();
        for (int i = 0; i < SpecialTokens.Length; i++)
        {
            added.Add(new JsonObject
            {
                ["id"] = i, ["content"] = SpecialTokens[i], ["single_word"] = false, ["lstrip"] = false,
                ["rstrip"] = false, ["normalized"] = false, ["special"] = true,
            });
        }

        var byteLevel = new JsonObject { ["type"] = "ByteLevel", ["add_prefix_space"] = false, ["trim_offsets"] = true, ["use_regex"] = true };
        var root = new JsonObject
        {
            ["version"] = "1.0",
            ["truncation"] = null,
            ["padding"] = null,
            ["added_tokens"] = added,
            ["normalizer"] = null,
            ["pre_tokenizer"] = byteLevel.DeepClone(),
            ["post_processor"] = null,
            ["decoder"] = byteLevel.DeepClone(),
            ["model"] = new JsonObject
            {
                ["type"] = "BPE", ["dropout"] = null, ["unk_token"] = null, ["continuing_subword_prefix"] = null,
                ["end_of_word_suffix"] = null, ["fuse_unk"] = false, ["byte_fallback"] = false, ["ignore_merges"] = false,
                ["vocab"] = vocab,
                ["merges"] = new JsonArray([.. bpe.Merges.Select(m => (JsonNode)new JsonArray(m.Left, m.Right))]),
            },
        };
        return root.ToJsonString(new JsonSerializerOptions { WriteIndented = false, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping });
    }

    internal static string ConfigText() => new JsonObject
    {
        ["tokenizer_class"] = "PreTrainedTokenizerFast",
        ["bos_token"] = SpecialTokens[2],
        ["eos_token"] = SpecialTokens[1],
        ["pad_token"] = SpecialTokens[0],
        ["clean_up_tokenization_spaces"] = false,
        ["model_max_length"] = 1024,
    }.ToJsonString(new JsonSerializerOptions { WriteIndented = true });

    /// <summary>Word (byte-level spelling of a pre-token) → count.</summary>
    private static Dictionary<string, int> CountWords(IEnumerable<string> texts)
    {
        var split = new ByteLevelStep(addPrefixSpace: false, useRegex: true);
        var counts = new Dictionary<string, int>(StringComparer.Ordinal);
        var pieces = new List<string>();
        foreach (string text in texts)
        {
            pieces.Clear();
            split.Apply(text, pieces);
            foreach (string piece in pieces)
            {
                string word = ByteLevelAlphabet.Encode(piece);
                counts[word] = counts.GetValueOrDefault(word) + 1;
            }
        }

        return counts;
    }
}

/// <summary>A learned vocabulary (id order: special tokens, the 256 bytes, then one token per merge) and its merges in rank order.</summary>
public sealed record TrainedBpe(IReadOnlyList<string> Vocabulary, IReadOnlyList<(string Left, string Right)> Merges);
