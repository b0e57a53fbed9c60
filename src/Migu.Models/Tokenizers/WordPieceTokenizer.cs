using System.Text;
using System.Text.Json;
using Migu.Core;

namespace Migu.Models.Tokenizers;

/// <summary>What a WordPiece tokenizer is built from, as read from vocab.txt + tokenizer_config.json or a tokenizer.json.</summary>
internal sealed class WordPieceSettings : SpecialTokenSettings
{
    /// <summary>Token → id, in vocabulary order.</summary>
    public required IReadOnlyDictionary<string, int> Vocabulary { get; init; }

    public required BertNormalizerOptions Normalizer { get; init; }

    public required int UnknownTokenId { get; init; }

    /// <summary>Marks a piece that continues a word ("##").</summary>
    public string ContinuingSubwordPrefix { get; init; } = "##";

    /// <summary>A longer word (in Unicode scalar values) becomes [UNK] whole.</summary>
    public int MaxInputCharsPerWord { get; init; } = 100;

    public int? ClsTokenId { get; init; }

    public int? SepTokenId { get; init; }

    public int? MaskTokenId { get; init; }

    /// <summary>The longest input the model was trained on (tokenizer_config.json's model_max_length); the caller truncates.</summary>
    public int? ModelMaxLength { get; init; }
}

/// <summary>
/// BERT's tokenizer, id-exact with Hugging Face's (tokenizers' BertNormalizer, BertPreTokenizer,
/// WordPiece and the [CLS] … [SEP] template): added tokens are cut out of the raw text first; each
/// other stretch is normalized, split into words, and each word is cut greedily into the longest
/// vocabulary pieces from its start (continuations carry "##"); a word that cannot be cut, or is
/// longer than max_input_chars_per_word, is one [UNK].
/// </summary>
public sealed class WordPieceTokenizer : SpecialTokenTokenizer
{
    private readonly WordPieceSettings settings;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> wordStarts;
    private readonly Dictionary<string, int>.AlternateLookup<ReadOnlySpan<char>> continuations;
    private readonly Dictionary<int, string> tokensById;

    private WordPieceTokenizer(WordPieceSettings settings)
        : base(settings, settings.Vocabulary.Values)
    {
        this.settings = settings;
        var starts = new Dictionary<string, int>(StringComparer.Ordinal);
        var next = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (var (token, id) in settings.Vocabulary)
        {
            starts.TryAdd(token, id);
            if (token.StartsWith(settings.ContinuingSubwordPrefix, StringComparison.Ordinal) && token.Length > settings.ContinuingSubwordPrefix.Length)
            {
                next.TryAdd(token[settings.ContinuingSubwordPrefix.Length..], id);
            }
        }

        wordStarts = starts.GetAlternateLookup<ReadOnlySpan<char>>();
        continuations = next.GetAlternateLookup<ReadOnlySpan<char>>();
        tokensById = new Dictionary<int, string>(settings.Vocabulary.Count);
        foreach (var (token, id) in settings.Vocabulary)
        {
            tokensById.TryAdd(id, token);
        }
    }

    public int UnknownTokenId => settings.UnknownTokenId;

    public int? ClsTokenId => settings.ClsTokenId;

    public int? SepTokenId => settings.SepTokenId;

    public int? MaskTokenId => settings.MaskTokenId;

    public int? ModelMaxLength => settings.ModelMaxLength;

    public BertNormalizerOptions Normalizer => settings.Normalizer;

    /// <summary>The token of <paramref name="id"/> ("##" continuations included), or null.</summary>
    public string? TokenOf(int id) => AddedById.TryGetValue(id, out AddedToken? added) ? added.Content : tokensById.GetValueOrDefault(id);

    /// <summary>
    /// A tokenizer from a vocab.txt (one token a line, id = line number) and the flags of
    /// tokenizer_config.json in the same directory: do_lower_case, strip_accents,
    /// tokenize_chinese_chars, model_max_length, and the names of the unk/cls/sep/pad/mask tokens.
    /// </summary>
    public static WordPieceTokenizer FromVocabFile(string vocabPath)
    {
        string directory = Path.GetDirectoryName(Path.GetFullPath(vocabPath))!;
        return FromVocab(ReadVocab(File.ReadAllBytes(vocabPath), vocabPath), vocabPath, TokenizerConfig.Read(directory));
    }

    /// <summary>A tokenizer from vocab.txt's text (a package's embedded vocabulary) with transformers' BertTokenizer defaults.</summary>
    public static WordPieceTokenizer FromVocabText(string vocabText, string source) =>
        FromVocab(ReadVocab(vocabText), source, TokenizerConfig.FromJson(JsonDocument.Parse("{}").RootElement));

    /// <summary>Token → id of a vocab.txt text: line i (from 0) is token i; a trailing newline ends the last line.</summary>
    public static Dictionary<string, int> ReadVocab(string text)
    {
        ArgumentNullException.ThrowIfNull(text);
        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        string[] lines = text.Split('\n');
        int count = lines.Length > 0 && lines[^1].Length == 0 ? lines.Length - 1 : lines.Length;
        for (int i = 0; i < count; i++)
        {
            // transformers strips each line's trailing whitespace ("\r" of a Windows file included).
            vocab.TryAdd(lines[i].TrimEnd(), i);
        }

        return vocab;
    }

    /// <summary>
    /// Token → id of a vocab.txt file's bytes (a byte order mark skipped): UTF-8 text of at most
    /// <see cref="TokenizerJson.MaxId"/> + 1 lines, or a user error naming <paramref name="source"/> and the line.
    /// </summary>
    public static Dictionary<string, int> ReadVocab(byte[] bytes, string source)
    {
        ArgumentNullException.ThrowIfNull(bytes);
        ReadOnlySpan<byte> content = bytes.AsSpan().StartsWith("\uFEFF"u8) ? bytes.AsSpan(3) : bytes;
        string text;
        try
        {
            text = new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(content);
        }
        catch (DecoderFallbackException e)
        {
            int line = 1 + content[..Math.Clamp(e.Index, 0, content.Length)].Count((byte)'\n');
            throw new MiguUserException($"{source}: line {line} is not valid UTF-8 text.", e);
        }

        // Ids index tables; a file of more lines than any id may be is no vocabulary.
        int lines = text.AsSpan().Count('\n') + (text.EndsWith('\n') ? 0 : 1);
        if (lines > TokenizerJson.MaxId + 1)
        {
            throw new MiguUserException($"{source}: {lines} lines; a vocabulary has at most {TokenizerJson.MaxId + 1} tokens.");
        }

        return ReadVocab(text);
    }

    /// <summary>
    /// A tokenizer from a BERT tokenizer.json: BertNormalizer, BertPreTokenizer, a WordPiece model,
    /// the post-processor's template and the added tokens. <paramref name="config"/> gives
    /// model_max_length. A member of the wrong kind is a user error naming its place in the file.
    /// </summary>
    internal static WordPieceTokenizer FromTokenizerJson(JsonElement root, string path, TokenizerConfig config)
    {
        JsonElement model = TokenizerJson.Property(root, "model", path, "the file");
        JsonElement vocabJson = TokenizerJson.Property(model, "vocab", path, "model");
        if (vocabJson.ValueKind != JsonValueKind.Object)
        {
            throw new MiguUserException($"{path}: model.vocab must be an object of token → id, found {TokenizerJson.Kind(vocabJson)}.");
        }

        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        foreach (JsonProperty p in vocabJson.EnumerateObject())
        {
            string token = TokenizerJson.Name(p, path, "model.vocab");
            vocab[token] = TokenizerJson.Id(p.Value, path, $"the id of vocabulary token '{token}'");
        }

        BertNormalizerOptions normalizer = ReadNormalizer(root, path);
        if (root.TryGetProperty("pre_tokenizer", out JsonElement pre) && pre.ValueKind == JsonValueKind.Object
            && TokenizerJson.Text(TokenizerJson.Property(pre, "type", path, "pre_tokenizer"), path, "pre_tokenizer.type") is string preType
            && preType != "BertPreTokenizer")
        {
            throw new MiguUserException($"{path}: pre_tokenizer '{preType}' is not supported with a WordPiece model (only BertPreTokenizer).");
        }

        string unk = OptionalText(model, "unk_token", path) ?? "[UNK]";
        List<AddedToken> added = TokenizerJson.AddedTokens(root, path);
        (List<int> Prefix, List<int> Suffix)? post = TokenizerJson.PostProcessor(root, path);
        bool cleanup = root.TryGetProperty("decoder", out JsonElement decoder) && decoder.ValueKind == JsonValueKind.Object
            && decoder.TryGetProperty("cleanup", out JsonElement c) ? c.ValueKind == JsonValueKind.True : config.Bool("clean_up_tokenization_spaces") ?? true;
        return Build(vocab, path, config, normalizer, added, post, cleanup, new WordPieceModelOptions(
            unk,
            OptionalText(model, "continuing_subword_prefix", path) ?? "##",
            MaxInputChars(model, path)));
    }

    /// <summary>model's string member <paramref name="name"/>; null when absent or null.</summary>
    private static string? OptionalText(JsonElement model, string name, string path) =>
        model.TryGetProperty(name, out JsonElement value) && value.ValueKind != JsonValueKind.Null
            ? TokenizerJson.Text(value, path, $"model.{name}")
            : null;

    /// <summary>max_input_chars_per_word: a count from 0 up (100 when absent).</summary>
    private static int MaxInputChars(JsonElement model, string path)
    {
        if (!model.TryGetProperty("max_input_chars_per_word", out JsonElement max) || max.ValueKind == JsonValueKind.Null)
        {
            return 100;
        }

        return max.ValueKind == JsonValueKind.Number && max.TryGetInt32(out int n) && n >= 0
            ? n
            : throw new MiguUserException($"{path}: model.max_input_chars_per_word must be an integer from 0 to {int.MaxValue}, found {TokenizerJson.Kind(max)}.");
    }

    public override string Decode(IEnumerable<int> ids, bool skipSpecialTokens = true)
    {
        var sb = new StringBuilder();
        foreach (int id in ids)
        {
            if (AddedById.TryGetValue(id, out AddedToken? added) && added.Special && skipSpecialTokens)
            {
                continue;
            }

            string token = TokenOf(id) ?? throw new MiguUserException($"token id {id} is outside the vocabulary of {VocabSize}");
            if (token.StartsWith(settings.ContinuingSubwordPrefix, StringComparison.Ordinal))
            {
                sb.Append(token.AsSpan(settings.ContinuingSubwordPrefix.Length));
            }
            else
            {
                if (sb.Length > 0)
                {
                    sb.Append(' ');
                }

                sb.Append(token);
            }
        }

        return CleanUpTokenizationSpaces ? CleanUp(sb.ToString()) : sb.ToString();
    }

    private protected override void EncodeSegment(AddedTokenSplitter.Piece segment, List<int> ids)
    {
        foreach (string word in BertTextRules.PreTokenize(BertTextRules.Normalize(segment.Text, settings.Normalizer)))
        {
            EncodeWord(word, ids);
        }
    }

    /// <summary>Greedy longest-match-first over Unicode scalar values; any piece that cannot be matched makes the whole word [UNK].</summary>
    private void EncodeWord(string word, List<int> ids)
    {
        var bounds = new List<int>(word.Length + 1);
        for (int i = 0; i < word.Length; i += char.IsSurrogatePair(word, i) ? 2 : 1)
        {
            bounds.Add(i);
        }

        bounds.Add(word.Length);
        int chars = bounds.Count - 1;
        if (chars > settings.MaxInputCharsPerWord)
        {
            ids.Add(settings.UnknownTokenId);
            return;
        }

        int mark = ids.Count;
        int start = 0;
        while (start < chars)
        {
            int end = chars;
            int found = -1;
            while (end > start)
            {
                ReadOnlySpan<char> piece = word.AsSpan(bounds[start], bounds[end] - bounds[start]);
                if ((start == 0 ? wordStarts : continuations).TryGetValue(piece, out int id))
                {
                    found = id;
                    break;
                }

                end--;
            }

            if (found < 0)
            {
                ids.RemoveRange(mark, ids.Count - mark);
                ids.Add(settings.UnknownTokenId);
                return;
            }

            ids.Add(found);
            start = end;
        }
    }

    /// <summary>transformers' clean_up_tokenization: no space before . ? ! , and English contractions.</summary>
    private static string CleanUp(string text) => text
        .Replace(" .", ".", StringComparison.Ordinal).Replace(" ?", "?", StringComparison.Ordinal)
        .Replace(" !", "!", StringComparison.Ordinal).Replace(" ,", ",", StringComparison.Ordinal)
        .Replace(" ' ", "'", StringComparison.Ordinal).Replace(" n't", "n't", StringComparison.Ordinal)
        .Replace(" 'm", "'m", StringComparison.Ordinal).Replace(" 's", "'s", StringComparison.Ordinal)
        .Replace(" 've", "'ve", StringComparison.Ordinal).Replace(" 're", "'re", StringComparison.Ordinal);

    private static WordPieceTokenizer FromVocab(Dictionary<string, int> vocab, string source, TokenizerConfig config)
    {
        bool lower = config.Bool("do_lower_case") ?? true;
        var normalizer = new BertNormalizerOptions
        {
            Lowercase = lower,
            StripAccents = config.Bool("strip_accents"),
            HandleChineseChars = config.Bool("tokenize_chinese_chars") ?? true,
        };
        var added = new List<AddedToken>();
        foreach (var (key, fallback) in SpecialTokens)
        {
            string content = config.Token(key) ?? fallback;
            if (vocab.TryGetValue(content, out int id))
            {
                added.Add(new AddedToken(id, content, Special: true));
            }
        }

        return Build(vocab, source, config, normalizer, added, post: null, config.Bool("clean_up_tokenization_spaces") ?? true,
            new WordPieceModelOptions(config.Token("unk_token") ?? "[UNK]", "##", 100));
    }

    private static readonly (string Key, string Fallback)[] SpecialTokens =
        [("pad_token", "[PAD]"), ("unk_token", "[UNK]"), ("cls_token", "[CLS]"), ("sep_token", "[SEP]"), ("mask_token", "[MASK]")];

    private static WordPieceTokenizer Build(
        Dictionary<string, int> vocab, string source, TokenizerConfig config, BertNormalizerOptions normalizer,
        List<AddedToken> added, (List<int> Prefix, List<int> Suffix)? post, bool cleanup, WordPieceModelOptions model)
    {
        int? Id(string key, string fallback) => TokenizerLoader.IdOf(config.Token(key) ?? fallback, added, vocab);
        int? cls = Id("cls_token", "[CLS]"), sep = Id("sep_token", "[SEP]"), pad = Id("pad_token", "[PAD]");
        int? unk = TokenizerLoader.IdOf(model.UnkToken, added, vocab);
        foreach (var (name, id) in new[] { ("[CLS]", cls), ("[SEP]", sep), ("[PAD]", pad), ("[UNK]", unk) })
        {
            if (id is null)
            {
                throw new MiguUserException($"{source}: the vocabulary has no {name} token; a BERT tokenizer needs [CLS], [SEP], [PAD] and [UNK].");
            }
        }

        return new WordPieceTokenizer(new WordPieceSettings
        {
            Vocabulary = vocab,
            Normalizer = normalizer,
            UnknownTokenId = unk!.Value,
            ContinuingSubwordPrefix = model.ContinuingSubwordPrefix,
            MaxInputCharsPerWord = model.MaxInputCharsPerWord,
            AddedTokens = added,
            Prefix = post?.Prefix ?? [cls!.Value],
            Suffix = post?.Suffix ?? [sep!.Value],
            CleanUpTokenizationSpaces = cleanup,
            PadTokenId = pad,
            ClsTokenId = cls,
            SepTokenId = sep,
            MaskTokenId = Id("mask_token", "[MASK]"),
            ModelMaxLength = config.Limit("model_max_length") is int m and < 1_000_000 ? m : null,
        });
    }

    private static BertNormalizerOptions ReadNormalizer(JsonElement root, string path)
    {
        if (!root.TryGetProperty("normalizer", out JsonElement n) || n.ValueKind != JsonValueKind.Object)
        {
            return new BertNormalizerOptions { CleanText = false, HandleChineseChars = false, StripAccents = false, Lowercase = false };
        }

        string type = TokenizerJson.Text(TokenizerJson.Property(n, "type", path, "normalizer"), path, "normalizer.type");
        if (type != "BertNormalizer")
        {
            throw new MiguUserException($"{path}: normalizer '{type}' is not supported with a WordPiece model (only BertNormalizer).");
        }

        bool Flag(string name, bool fallback) => n.TryGetProperty(name, out JsonElement v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False ? v.GetBoolean() : fallback;
        return new BertNormalizerOptions
        {
            CleanText = Flag("clean_text", true),
            HandleChineseChars = Flag("handle_chinese_chars", true),
            StripAccents = n.TryGetProperty("strip_accents", out JsonElement s) && s.ValueKind is JsonValueKind.True or JsonValueKind.False ? s.GetBoolean() : null,
            Lowercase = Flag("lowercase", true),
        };
    }

    private sealed record WordPieceModelOptions(string UnkToken, string ContinuingSubwordPrefix, int MaxInputCharsPerWord);
}
