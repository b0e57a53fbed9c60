using System.Text.Json;
using Microsoft.ML.Tokenizers;
using Migu.Core;

namespace Migu.Models.Tokenizers;

/// <summary>
/// Loads the tokenizer of a Hugging Face checkpoint directory, chosen by the files present:
/// spiece.model → T5 (SentencePiece unigram); tokenizer.json with a byte-level BPE → that file
/// (Llama 3, GPT-2, RoBERTa, …); tokenizer.model → Llama 2 (SentencePiece BPE); vocab.json +
/// merges.txt → RoBERTa; a WordPiece tokenizer.json or vocab.txt → BERT. A tokenizer.json that is not byte-level (transformers also saves one for
/// T5 and Llama 2) gives its added tokens, post-processor and (Llama) merges to the SentencePiece
/// loader; its normalizer and pre-tokenizer are not read, because transformers 5 rebuilds those
/// from tokenizer_config.json's flags for these classes. tokenizer_config.json /
/// special_tokens_map.json name the bos/eos/pad tokens and carry those flags.
/// </summary>
public static class TokenizerLoader
{
    public static ITextTokenizer Load(string directory)
    {
        if (!Directory.Exists(directory))
        {
            throw new MiguUserException($"Tokenizer directory '{directory}' does not exist.");
        }

        TokenizerConfig config = TokenizerConfig.Read(directory);
        string jsonPath = Path.Combine(directory, "tokenizer.json");
        JsonElement? json = File.Exists(jsonPath) ? TokenizerJson.Parse(jsonPath) : null;

        string spiece = Path.Combine(directory, "spiece.model");
        if (File.Exists(spiece))
        {
            return LoadT5(spiece, json, jsonPath, config);
        }

        if (json is JsonElement root && IsByteLevelBpe(root))
        {
            return ByteLevelBpeLoader.FromTokenizerJson(root, jsonPath, config);
        }

        string llama = Path.Combine(directory, "tokenizer.model");
        if (File.Exists(llama))
        {
            return LoadLlama(llama, json, jsonPath, config);
        }

        string vocab = Path.Combine(directory, "vocab.json");
        string merges = Path.Combine(directory, "merges.txt");
        if (File.Exists(vocab) && File.Exists(merges))
        {
            return ByteLevelBpeLoader.FromVocabAndMerges(vocab, merges, config);
        }

        if (json is JsonElement wp && IsWordPiece(wp))
        {
            return WordPieceTokenizer.FromTokenizerJson(wp, jsonPath, config);
        }

        string bertVocab = Path.Combine(directory, "vocab.txt");
        if (File.Exists(bertVocab))
        {
            return WordPieceTokenizer.FromVocabFile(bertVocab);
        }

        if (json is not null)
        {
            throw new MiguUserException($"{jsonPath}: only byte-level BPE tokenizer.json files are supported without a spiece.model or tokenizer.model next to them.");
        }

        throw new MiguUserException($"{directory}: no tokenizer found (expected spiece.model, tokenizer.json, tokenizer.model, vocab.json + merges.txt, or vocab.txt).");
    }

    /// <summary>T5: EOS after the text, no BOS, pad 0 / eos 1 / unk 2 and &lt;extra_id_N&gt; sentinels counted down from the top.</summary>
    public static SentencePieceTextTokenizer LoadT5(string spieceModel, string? tokenizerJson = null)
    {
        string directory = Path.GetDirectoryName(Path.GetFullPath(spieceModel))!;
        JsonElement? json = tokenizerJson is not null && File.Exists(tokenizerJson) ? TokenizerJson.Parse(tokenizerJson) : null;
        return LoadT5(spieceModel, json, tokenizerJson ?? "", TokenizerConfig.Read(directory));
    }

    private static SentencePieceTextTokenizer LoadT5(string path, JsonElement? json, string jsonPath, TokenizerConfig config)
    {
        (SentencePieceTokenizer model, int pieceCount) = OpenSentencePiece(path);
        IReadOnlyDictionary<string, int> vocab = model.Vocabulary;
        List<AddedToken> added = json is JsonElement root ? TokenizerJson.AddedTokens(root, jsonPath) : [];
        if (added.Count == 0)
        {
            foreach (string key in new[] { "pad_token", "eos_token", "unk_token" })
            {
                string content = config.Token(key) ?? key switch { "pad_token" => "<pad>", "eos_token" => "</s>", _ => "<unk>" };
                if (vocab.TryGetValue(content, out int id))
                {
                    added.Add(new AddedToken(id, content, Special: true));
                }
            }

            // T5 has 100 sentinels (ByT5 125); the bound keeps the list of added tokens small.
            int extra = config.Count("extra_ids", Math.Min(1 << 16, TokenizerJson.MaxId - pieceCount)) ?? 100;
            for (int i = 0; i < extra; i++)
            {
                added.Add(new AddedToken(pieceCount + extra - 1 - i, $"<extra_id_{i}>", Special: true));
            }
        }

        int? eos = IdOf(config.Token("eos_token") ?? "</s>", added, vocab);
        (List<int> Prefix, List<int> Suffix)? post = json is JsonElement r ? TokenizerJson.PostProcessor(r, jsonPath) : null;
        return new SentencePieceTextTokenizer(new SentencePieceSettings
        {
            EncodeSegment = (segment, ids) => EncodeUnigram(model, segment, ids),
            Pieces = PiecesById(path),
            Style = SentencePieceStyle.T5,
            AddedTokens = added,
            Prefix = post?.Prefix ?? [],
            Suffix = post?.Suffix ?? (eos is int e ? [e] : []),
            CleanUpTokenizationSpaces = config.Bool("clean_up_tokenization_spaces") ?? false,
            BosTokenId = null,
            EosTokenId = eos,
            PadTokenId = IdOf(config.Token("pad_token") ?? "<pad>", added, vocab),
        });
    }

    /// <summary>Llama 2: BOS first and no EOS unless tokenizer_config.json (add_bos_token / add_eos_token) or tokenizer.json's post-processor says otherwise.</summary>
    public static SentencePieceTextTokenizer LoadLlama(string tokenizerModel)
    {
        string directory = Path.GetDirectoryName(Path.GetFullPath(tokenizerModel))!;
        string jsonPath = Path.Combine(directory, "tokenizer.json");
        JsonElement? json = File.Exists(jsonPath) ? TokenizerJson.Parse(jsonPath) : null;
        return LoadLlama(tokenizerModel, json, jsonPath, TokenizerConfig.Read(directory));
    }

    private static SentencePieceTextTokenizer LoadLlama(string path, JsonElement? json, string jsonPath, TokenizerConfig config)
    {
        byte[] file = File.ReadAllBytes(path);
        List<(string Piece, float Score, int Type)> pieces = SentencePieceModelFile.ReadPieces(file, path);
        if (pieces.Count == 0)
        {
            throw new MiguUserException($"{path}: not a SentencePiece model (no pieces).");
        }

        if (SentencePieceModelFile.ModelType(file, path) != 2)
        {
            throw new MiguUserException($"{path}: a Llama tokenizer.model must be a SentencePiece BPE model; this one is not (model_type {SentencePieceModelFile.ModelType(file, path)}).");
        }

        var vocab = new Dictionary<string, int>(StringComparer.Ordinal);
        for (int i = 0; i < pieces.Count; i++)
        {
            vocab.TryAdd(pieces[i].Piece, i);
        }

        List<(string, string)> merges = json is JsonElement j && j.TryGetProperty("model", out JsonElement m) && m.ValueKind == JsonValueKind.Object
            && m.TryGetProperty("merges", out JsonElement jm) && jm.ValueKind == JsonValueKind.Array
            ? ByteLevelBpeLoader.ReadMerges(jm, jsonPath)
            : SentencePieceMerges.Derive(pieces, vocab);
        int? unk = pieces.FindIndex(p => p.Type == 2) is int u and >= 0 ? u : null;
        var bpe = new BytePairModel(vocab, merges, ignoreMerges: false, unk, byteFallback: true, fuseUnk: true);
        List<AddedToken> added = json is JsonElement root ? TokenizerJson.AddedTokens(root, jsonPath) : [];
        if (added.Count == 0)
        {
            foreach (string key in new[] { "unk_token", "bos_token", "eos_token" })
            {
                string content = config.Token(key) ?? key switch { "unk_token" => "<unk>", "bos_token" => "<s>", _ => "</s>" };
                if (vocab.TryGetValue(content, out int id))
                {
                    added.Add(new AddedToken(id, content, Special: true));
                }
            }
        }

        int? bos = IdOf(config.Token("bos_token") ?? "<s>", added, vocab);
        int? eos = IdOf(config.Token("eos_token") ?? "</s>", added, vocab);
        (List<int> Prefix, List<int> Suffix)? post = json is JsonElement r ? TokenizerJson.PostProcessor(r, jsonPath) : null;
        bool addBos = config.Bool("add_bos_token") ?? (post is null || (bos is int b && post.Value.Prefix.Contains(b)));
        bool addEos = config.Bool("add_eos_token") ?? (post is not null && eos is int e && post.Value.Suffix.Contains(e));
        (bool first, bool every) = LlamaPrefixRule(config);
        return new SentencePieceTextTokenizer(new SentencePieceSettings
        {
            EncodeSegment = bpe.Encode,
            Pieces = vocab.ToDictionary(kv => kv.Value, kv => kv.Key),
            Style = SentencePieceStyle.Llama,
            AddedTokens = added,
            PrependFirstSegment = first,
            PrependEverySegment = every,
            Prefix = addBos && bos is int bb ? [bb] : [],
            Suffix = addEos && eos is int ee ? [ee] : [],
            CleanUpTokenizationSpaces = config.Bool("clean_up_tokenization_spaces") ?? false,
            BosTokenId = bos,
            EosTokenId = eos,
            PadTokenId = IdOf(config.Token("pad_token"), added, vocab),
        });
    }

    /// <summary>
    /// Where "▁" goes in front of a segment, decided as transformers 5's LlamaTokenizer decides it: from
    /// tokenizer_config.json's legacy and add_prefix_space, not from tokenizer.json's normalizer or
    /// pre-tokenizer (the fixtures show it rebuilds those: a Hub-style Prepend normalizer and a saved
    /// prepend_scheme "always" are both ignored on load). legacy=false (the default): only before the
    /// text's first segment; legacy=true: before every segment between added tokens; in both cases not
    /// before one that already starts with a space. add_prefix_space=false: never.
    /// </summary>
    private static (bool First, bool Every) LlamaPrefixRule(TokenizerConfig config)
    {
        if (config.Bool("add_prefix_space") == false)
        {
            return (false, false);
        }

        return config.Bool("legacy") == true ? (true, true) : (true, false);
    }

    /// <summary>id → piece from the model file itself (the library's vocabulary maps two names to T5's id 0).</summary>
    private static Dictionary<int, string> PiecesById(string path)
    {
        List<(string Piece, float Score, int Type)> pieces = SentencePieceModelFile.ReadPieces(File.ReadAllBytes(path), path);
        var byId = new Dictionary<int, string>(pieces.Count);
        for (int i = 0; i < pieces.Count; i++)
        {
            byId[i] = pieces[i].Piece;
        }

        return byId;
    }

    /// <summary>The library's unigram ids for one segment, a run of unknown characters fused into one unk as tokenizers' Unigram and SentencePiece do.</summary>
    private static void EncodeUnigram(SentencePieceTokenizer model, string segment, List<int> ids)
    {
        int? previous = null;
        foreach (int id in model.EncodeToIds(segment, addBeginningOfSentence: false, addEndOfSentence: false,
            considerPreTokenization: true, considerNormalization: true))
        {
            if (id != model.UnknownId || previous != id)
            {
                ids.Add(id);
            }

            previous = id;
        }
    }

    private static (SentencePieceTokenizer Model, int PieceCount) OpenSentencePiece(string path)
    {
        byte[] original = File.ReadAllBytes(path);
        byte[] bytes = SentencePieceModelFile.WithBosId(original, path);
        try
        {
            using var stream = new MemoryStream(bytes);
            return (SentencePieceTokenizer.Create(stream, addBeginningOfSentence: false, addEndOfSentence: false),
                SentencePieceModelFile.PieceCount(original, path));
        }
        catch (Exception e) when (e is ArgumentException or InvalidOperationException or NotSupportedException or Google.Protobuf.InvalidProtocolBufferException)
        {
            throw new MiguUserException($"{path}: cannot load the SentencePiece model ({e.Message}).", e);
        }
    }

    internal static bool IsByteLevelBpe(JsonElement root) =>
        root.TryGetProperty("model", out JsonElement model) && model.ValueKind == JsonValueKind.Object
        && model.TryGetProperty("type", out JsonElement type) && type.ValueKind == JsonValueKind.String && type.GetString() == "BPE"
        && root.TryGetProperty("pre_tokenizer", out JsonElement pre) && pre.ValueKind == JsonValueKind.Object
        && pre.GetRawText().Contains("\"ByteLevel\"", StringComparison.Ordinal);

    internal static bool IsWordPiece(JsonElement root) =>
        root.ValueKind == JsonValueKind.Object
        && root.TryGetProperty("model", out JsonElement model) && model.ValueKind == JsonValueKind.Object
        && model.TryGetProperty("type", out JsonElement type) && type.ValueKind == JsonValueKind.String && type.GetString() == "WordPiece";

    internal static int? IdOf(string? token, IReadOnlyList<AddedToken> added, IReadOnlyDictionary<string, int> vocab)
    {
        if (token is null)
        {
            return null;
        }

        foreach (AddedToken t in added)
        {
            if (t.Content == token)
            {
                return t.Id;
            }
        }

        return vocab.TryGetValue(token, out int id) ? id : null;
    }
}
