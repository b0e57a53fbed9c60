using System.Text.Json;
using System.Text.RegularExpressions;
using Migu.Core;

namespace Migu.Models.Tokenizers;

/// <summary>Builds a <see cref="ByteLevelBpeTokenizer"/> from a tokenizer.json or from GPT-2/RoBERTa-style vocab.json + merges.txt.</summary>
internal static class ByteLevelBpeLoader
{
    public static ByteLevelBpeTokenizer FromTokenizerJson(JsonElement root, string path, TokenizerConfig config)
    {
        JsonElement model = TokenizerJson.Property(root, "model", path, "the file");
        Dictionary<string, int> vocab = ReadVocab(TokenizerJson.Property(model, "vocab", path, "model"), path);
        List<(string, string)> merges = ReadMerges(TokenizerJson.Property(model, "merges", path, "model"), path);

        List<AddedToken> added = TokenizerJson.AddedTokens(root, path);
        int? unk = model.TryGetProperty("unk_token", out JsonElement u) && u.ValueKind == JsonValueKind.String
            ? TokenizerLoader.IdOf(u.GetString(), added, vocab)
            : null;
        bool ignoreMerges = model.TryGetProperty("ignore_merges", out JsonElement im) && im.ValueKind == JsonValueKind.True;
        var steps = new List<IPreTokenizerStep>();
        AddPreTokenizer(TokenizerJson.Property(root, "pre_tokenizer", path, "the file"), steps, path);
        (List<int> Prefix, List<int> Suffix)? post = TokenizerJson.PostProcessor(root, path);
        return new ByteLevelBpeTokenizer(new ByteLevelBpeSettings
        {
            Model = new BytePairModel(vocab, merges, ignoreMerges, unk),
            AddedTokens = added,
            Normalizer = TokenizerJson.Normalizer(root, path),
            PreTokenizer = steps,
            Prefix = post?.Prefix ?? [],
            Suffix = post?.Suffix ?? [],
            CleanUpTokenizationSpaces = config.Bool("clean_up_tokenization_spaces") ?? false,
            BosTokenId = TokenizerLoader.IdOf(config.Token("bos_token"), added, vocab),
            EosTokenId = TokenizerLoader.IdOf(config.Token("eos_token"), added, vocab),
            PadTokenId = TokenizerLoader.IdOf(config.Token("pad_token"), added, vocab),
        });
    }

    /// <summary>RoBERTa's files: GPT-2 regex, no prefix space unless add_prefix_space, &lt;s&gt; … &lt;/s&gt; around the text.</summary>
    public static ByteLevelBpeTokenizer FromVocabAndMerges(string vocabPath, string mergesPath, TokenizerConfig config)
    {
        Dictionary<string, int> vocab = ReadVocab(TokenizerJson.Parse(vocabPath), vocabPath);
        var merges = new List<(string, string)>();
        foreach (string line in File.ReadLines(mergesPath))
        {
            if (line.StartsWith("#version", StringComparison.Ordinal) || line.Trim().Length == 0)
            {
                continue;
            }

            merges.Add(SplitMerge(line, mergesPath));
        }

        var added = new List<AddedToken>();
        var defaults = new (string Key, string Content)[]
        {
            ("bos_token", "<s>"), ("pad_token", "<pad>"), ("eos_token", "</s>"), ("unk_token", "<unk>"),
            ("cls_token", "<s>"), ("sep_token", "</s>"), ("mask_token", "<mask>"),
        };
        foreach ((string key, string fallback) in defaults)
        {
            string content = config.Token(key) ?? fallback;
            if (vocab.TryGetValue(content, out int id) && added.All(t => t.Content != content))
            {
                added.Add(new AddedToken(id, content, Special: true, config.TokenFlag(key, "lstrip"), config.TokenFlag(key, "rstrip")));
            }
        }

        int? Id(string key, string fallback) => TokenizerLoader.IdOf(config.Token(key) ?? fallback, added, vocab);
        int? cls = Id("cls_token", "<s>");
        int? sep = Id("sep_token", "</s>");
        return new ByteLevelBpeTokenizer(new ByteLevelBpeSettings
        {
            Model = new BytePairModel(vocab, merges, ignoreMerges: false, Id("unk_token", "<unk>")),
            AddedTokens = added,
            PreTokenizer = [new ByteLevelStep(config.Bool("add_prefix_space") ?? false, useRegex: true)],
            Prefix = cls is int c ? [c] : [],
            Suffix = sep is int s ? [s] : [],
            CleanUpTokenizationSpaces = config.Bool("clean_up_tokenization_spaces") ?? false,
            BosTokenId = Id("bos_token", "<s>"),
            EosTokenId = Id("eos_token", "</s>"),
            PadTokenId = Id("pad_token", "<pad>"),
        });
    }

    /// <summary>tokenizer.json merges in either form: "a b" strings (older files) or [a, b] pairs.</summary>
    public static List<(string, string)> ReadMerges(JsonElement merges, string path)
    {
        var result = new List<(string, string)>();
        int i = 0;
        foreach (JsonElement m in TokenizerJson.Items(merges, path, "model.merges"))
        {
            string where = $"model.merges[{i++}]";
            result.Add(m.ValueKind == JsonValueKind.Array
                ? (m.GetArrayLength() == 2
                    ? (TokenizerJson.Text(m[0], path, where + "[0]"), TokenizerJson.Text(m[1], path, where + "[1]"))
                    : throw new MiguUserException($"{path}: {where} must be a pair of tokens, found a list of {m.GetArrayLength()}."))
                : SplitMerge(TokenizerJson.Text(m, path, where), path));
        }

        return result;
    }

    private static void AddPreTokenizer(JsonElement pre, List<IPreTokenizerStep> steps, string path, string where = "pre_tokenizer")
    {
        string type = TokenizerJson.Text(TokenizerJson.Property(pre, "type", path, where), path, $"{where}.type");
        switch (type)
        {
            case "Sequence":
                int n = 0;
                foreach (JsonElement p in TokenizerJson.Items(TokenizerJson.Property(pre, "pretokenizers", path, where), path, $"{where}.pretokenizers"))
                {
                    AddPreTokenizer(p, steps, path, $"{where}.pretokenizers[{n++}]");
                }

                break;
            case "ByteLevel":
                steps.Add(new ByteLevelStep(Flag(pre, "add_prefix_space"), !pre.TryGetProperty("use_regex", out JsonElement r) || r.ValueKind == JsonValueKind.True));
                break;
            case "Split":
                string behavior = TokenizerJson.Text(TokenizerJson.Property(pre, "behavior", path, where), path, $"{where}.behavior");
                if (!behavior.Equals("Isolated", StringComparison.OrdinalIgnoreCase) || Flag(pre, "invert"))
                {
                    throw new MiguUserException($"{path}: Split pre-tokenizer with behavior '{behavior}' (invert {Flag(pre, "invert")}) is not supported; only Isolated.");
                }

                JsonElement pattern = TokenizerJson.Property(pre, "pattern", path, where);
                string regex = pattern.ValueKind == JsonValueKind.Object && pattern.TryGetProperty("Regex", out JsonElement rx)
                    ? TokenizerJson.Text(rx, path, $"{where}.pattern.Regex")
                    : Regex.Escape(TokenizerJson.Text(TokenizerJson.Property(pattern, "String", path, $"{where}.pattern"), path, $"{where}.pattern.String"));
                steps.Add(new RegexSplitStep(new UnicodeRegexSplitter(regex, path)));
                break;
            case "Digits":
                // Numbers apart from the rest: each digit alone or runs of digits.
                steps.Add(new RegexSplitStep(new UnicodeRegexSplitter(Flag(pre, "individual_digits") ? @"\p{N}" : @"\p{N}+")));
                break;
            default:
                throw new MiguUserException($"{path}: pre_tokenizer type '{type}' is not supported for byte-level BPE.");
        }
    }

    private static Dictionary<string, int> ReadVocab(JsonElement vocab, string path)
    {
        if (vocab.ValueKind != JsonValueKind.Object)
        {
            throw new MiguUserException($"{path}: the vocabulary must be a JSON object of token → id.");
        }

        var result = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (JsonProperty p in vocab.EnumerateObject())
        {
            string token;
            try
            {
                token = p.Name;
            }
            catch (InvalidOperationException e)
            {
                throw new MiguUserException($"{path}: a vocabulary token is not valid UTF-8 text.", e);
            }

            result[token] = TokenizerJson.Id(p.Value, path, $"the id of vocabulary token '{token}'");
        }

        return result;
    }

    private static (string, string) SplitMerge(string merge, string path)
    {
        int space = merge.IndexOf(' ', StringComparison.Ordinal);
        if (space <= 0 || space == merge.Length - 1)
        {
            throw new MiguUserException($"{path}: merge '{merge}' is not two tokens separated by a space.");
        }

        return (merge[..space], merge[(space + 1)..]);
    }

    private static bool Flag(JsonElement e, string name) =>
        e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.True;
}
