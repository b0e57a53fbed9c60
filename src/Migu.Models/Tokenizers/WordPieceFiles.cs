using System.Text;
using System.Text.Json;

namespace Migu.Models.Tokenizers;

/// <summary>The tokenizer files transformers writes for a BERT tokenizer, made from a vocabulary: tokenizer_config.json and tokenizer.json.</summary>
public static class WordPieceFiles
{
    private static readonly string[] Specials = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]"];

    /// <summary>
    /// True when lower-casing changes no vocabulary entry (bracketed specials aside): the vocabulary
    /// of a lower-casing (uncased) tokenizer. Letters without a lower case (ℝ) do not count.
    /// </summary>
    public static bool IsUncased(IReadOnlyDictionary<string, int> vocab) =>
        vocab.Keys.Where(k => !(k.StartsWith('[') && k.EndsWith(']'))).All(k => string.Equals(k, k.ToLowerInvariant(), StringComparison.Ordinal));

    /// <summary>tokenizer_config.json for transformers' BertTokenizer (and our loader): casing, special tokens, longest input.</summary>
    public static string TokenizerConfigJson(bool lowercase, int modelMaxLength) => Write(w =>
    {
        w.WriteString("tokenizer_class", "BertTokenizer");
        w.WriteBoolean("do_lower_case", lowercase);
        w.WriteNull("strip_accents");
        w.WriteBoolean("tokenize_chinese_chars", true);
        w.WriteNumber("model_max_length", modelMaxLength);
        w.WriteBoolean("clean_up_tokenization_spaces", true);
        w.WriteString("unk_token", "[UNK]");
        w.WriteString("sep_token", "[SEP]");
        w.WriteString("pad_token", "[PAD]");
        w.WriteString("cls_token", "[CLS]");
        w.WriteString("mask_token", "[MASK]");
    });

    /// <summary>
    /// A tokenizer.json that Hugging Face's tokenizers library reads: BertNormalizer, BertPreTokenizer,
    /// WordPiece over <paramref name="vocab"/>, the [CLS] A [SEP] (B [SEP]) template, the special tokens
    /// as added tokens.
    /// </summary>
    public static string TokenizerJson(IReadOnlyDictionary<string, int> vocab, bool lowercase) => Write(w =>
    {
        w.WriteString("version", "1.0");
        w.WriteNull("truncation");
        w.WriteNull("padding");
        w.WriteStartArray("added_tokens");
        foreach (string special in Specials.Where(vocab.ContainsKey).OrderBy(s => vocab[s]))
        {
            w.WriteStartObject();
            w.WriteNumber("id", vocab[special]);
            w.WriteString("content", special);
            w.WriteBoolean("single_word", false);
            w.WriteBoolean("lstrip", false);
            w.WriteBoolean("rstrip", false);
            w.WriteBoolean("normalized", false);
            w.WriteBoolean("special", true);
            w.WriteEndObject();
        }

        w.WriteEndArray();
        w.WriteStartObject("normalizer");
        w.WriteString("type", "BertNormalizer");
        w.WriteBoolean("clean_text", true);
        w.WriteBoolean("handle_chinese_chars", true);
        w.WriteNull("strip_accents");
        w.WriteBoolean("lowercase", lowercase);
        w.WriteEndObject();
        w.WriteStartObject("pre_tokenizer");
        w.WriteString("type", "BertPreTokenizer");
        w.WriteEndObject();
        w.WriteStartObject("post_processor");
        w.WriteString("type", "TemplateProcessing");
        w.WriteStartArray("single");
        Piece(w, "SpecialToken", "[CLS]", 0);
        Piece(w, "Sequence", "A", 0);
        Piece(w, "SpecialToken", "[SEP]", 0);
        w.WriteEndArray();
        w.WriteStartArray("pair");
        Piece(w, "SpecialToken", "[CLS]", 0);
        Piece(w, "Sequence", "A", 0);
        Piece(w, "SpecialToken", "[SEP]", 0);
        Piece(w, "Sequence", "B", 1);
        Piece(w, "SpecialToken", "[SEP]", 1);
        w.WriteEndArray();
        w.WriteStartObject("special_tokens");
        foreach (string special in Specials.Where(s => s is "[CLS]" or "[SEP]"))
        {
            w.WriteStartObject(special);
            w.WriteString("id", special);
            w.WriteStartArray("ids");
            w.WriteNumberValue(vocab[special]);
            w.WriteEndArray();
            w.WriteStartArray("tokens");
            w.WriteStringValue(special);
            w.WriteEndArray();
            w.WriteEndObject();
        }

        w.WriteEndObject();
        w.WriteEndObject();
        w.WriteStartObject("decoder");
        w.WriteString("type", "WordPiece");
        w.WriteString("prefix", "##");
        w.WriteBoolean("cleanup", true);
        w.WriteEndObject();
        w.WriteStartObject("model");
        w.WriteString("type", "WordPiece");
        w.WriteString("unk_token", "[UNK]");
        w.WriteString("continuing_subword_prefix", "##");
        w.WriteNumber("max_input_chars_per_word", 100);
        w.WriteStartObject("vocab");
        foreach (var (token, id) in vocab.OrderBy(kv => kv.Value))
        {
            w.WriteNumber(token, id);
        }

        w.WriteEndObject();
        w.WriteEndObject();
    });

    private static void Piece(Utf8JsonWriter w, string kind, string id, int typeId)
    {
        w.WriteStartObject();
        w.WriteStartObject(kind);
        w.WriteString("id", id);
        w.WriteNumber("type_id", typeId);
        w.WriteEndObject();
        w.WriteEndObject();
    }

    private static string Write(Action<Utf8JsonWriter> body)
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true, Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }))
        {
            w.WriteStartObject();
            body(w);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }
}
