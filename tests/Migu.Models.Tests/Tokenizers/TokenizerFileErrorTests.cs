using System.Text;
using System.Text.Json.Nodes;
using Migu.Core;
using Migu.Models.Tokenizers;

namespace Migu.Models.Tests.Tokenizers;

/// <summary>
/// Tokenizer files with one thing wrong, each a case the loader fuzz test found (or its sibling in
/// the same reader): every one is a single-line user error naming the file and the place, where
/// before it was an InvalidOperationException, FormatException, IndexOutOfRangeException,
/// KeyNotFoundException or OverflowException from deep inside the reader.
/// </summary>
public sealed class TokenizerFileErrorTests : IDisposable
{
    private readonly List<string> dirs = [];

    public void Dispose()
    {
        foreach (string dir in dirs)
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    public static TheoryData<string, string?, string> TokenizerJsonEdits => new()
    {
        // A JSON path into gpt2json/tokenizer.json, the raw JSON put there (null: removed), the message.
        { "model.vocab.!", "\"12\"", "the id of vocabulary token '!' must be a token id (an integer from 0 to 16777215), found a string" },
        { "model.vocab.!", "2147483648", "the id of vocabulary token '!' must be a token id (an integer from 0 to 16777215), found the number 2147483648" },
        { "model.vocab.!", "-1", "found the number -1" },
        { "model.merges[0]", "[\"a\"]", "model.merges[0] must be a pair of tokens, found a list of 1" },
        { "model.merges[0]", "5", "model.merges[0] must be a string, found the number 5" },
        { "model.merges[0]", "[\"a\", false]", "model.merges[0][1] must be a string, found false" },
        { "model.merges", "{}", "model.merges must be a list, found an object" },
        { "model", "[]", "only byte-level BPE tokenizer.json files are supported" },
        { "added_tokens[0].id", "\"x\"", "added_tokens[0].id must be a token id" },
        { "added_tokens[0].content", null, "added_tokens[0] has no \"content\"" },
        { "added_tokens[0]", "7", "added_tokens[0] must be an object, found the number 7" },
        { "pre_tokenizer", "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"ByteLevel\"}, {\"type\": \"Split\"}]}", "pre_tokenizer.pretokenizers[1] has no \"behavior\"" },
        { "pre_tokenizer", "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"ByteLevel\"}, {\"type\": \"Split\", \"behavior\": \"Isolated\", \"pattern\": {\"Regex\": \"(\"}}]}", "pre-tokenizer pattern '(' is not a regular expression .NET can run" },
        { "pre_tokenizer", "{\"type\": \"Sequence\", \"pretokenizers\": [{\"type\": \"ByteLevel\"}, {\"type\": 3}]}", "pre_tokenizer.pretokenizers[1].type must be a string, found the number 3" },
        { "post_processor", "{\"type\": \"RobertaProcessing\", \"cls\": [\"<s>\"], \"sep\": [\"</s>\", 2]}", "post_processor.cls must be a [token, id] pair, found a list" },
        { "post_processor", "{\"type\": \"TemplateProcessing\", \"single\": [{\"SpecialToken\": {}}], \"special_tokens\": {}}", "post_processor.single[0].SpecialToken has no \"id\"" },
        { "normalizer", "{\"type\": \"Sequence\", \"normalizers\": 1}", "normalizer.normalizers must be a list, found the number 1" },
    };

    [Theory]
    [MemberData(nameof(TokenizerJsonEdits))]
    public void A_tokenizer_json_of_the_wrong_shape_is_one_user_error_naming_the_place(string path, string? value, string expected)
    {
        string dir = Copy("gpt2json", "tokenizer.json", "tokenizer_config.json");
        Edit(Path.Combine(dir, "tokenizer.json"), path, value);

        var e = Assert.ThrowsAny<MiguUserException>(() => TokenizerLoader.Load(dir));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.Contains("tokenizer.json", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    public static TheoryData<string, string?, string> WordPieceJsonEdits => new()
    {
        // A JSON path into bert/tokenizer.json (a WordPiece model), the raw JSON put there (null: removed), the message.
        { "model.vocab", "[]", "model.vocab must be an object of token → id, found a list" },
        { "model.vocab", null, "model has no \"vocab\"" },
        { "model.vocab.hello", "\"x\"", "the id of vocabulary token 'hello' must be a token id (an integer from 0 to 16777215), found a string" },
        { "model.vocab.hello", "1e10", "the id of vocabulary token 'hello' must be a token id (an integer from 0 to 16777215), found the number 1e10" },
        { "model.unk_token", "5", "model.unk_token must be a string, found the number 5" },
        { "model.continuing_subword_prefix", "[]", "model.continuing_subword_prefix must be a string, found a list" },
        { "model.max_input_chars_per_word", "1.5", "model.max_input_chars_per_word must be an integer from 0 to 2147483647, found the number 1.5" },
        { "model.max_input_chars_per_word", "-1", "model.max_input_chars_per_word must be an integer from 0 to 2147483647, found the number -1" },
        { "normalizer.type", "3", "normalizer.type must be a string, found the number 3" },
        { "normalizer", "{\"lowercase\": true}", "normalizer has no \"type\"" },
        { "pre_tokenizer", "{}", "pre_tokenizer has no \"type\"" },
        { "pre_tokenizer.type", "false", "pre_tokenizer.type must be a string, found false" },
        { "added_tokens[2].content", "null", "added_tokens[2].content must be a string, found null" },
        { "post_processor.single[0]", "{\"SpecialToken\": {\"id\": \"[MASK]\", \"type_id\": 0}}", "post_processor names special token '[MASK]' that it does not define" },
    };

    [Theory]
    [MemberData(nameof(WordPieceJsonEdits))]
    public void A_wordpiece_tokenizer_json_of_the_wrong_shape_is_one_user_error_naming_the_place(string path, string? value, string expected)
    {
        // Before: InvalidOperationException, KeyNotFoundException or FormatException from JsonElement's getters,
        // or (a negative word length) a tokenizer that turned every word into [UNK].
        string dir = Copy("bert", "tokenizer.json", "tokenizer_config.json");
        Edit(Path.Combine(dir, "tokenizer.json"), path, value);

        var e = Assert.ThrowsAny<MiguUserException>(() => TokenizerLoader.Load(dir));

        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.StartsWith(Path.Combine(dir, "tokenizer.json") + ": ", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void A_vocab_txt_that_is_not_utf8_is_refused_naming_the_line()
    {
        // Before: read with replacement characters, so the damaged token silently became another.
        string dir = Copy("bert", "vocab.txt", "tokenizer_config.json");
        string vocab = Path.Combine(dir, "vocab.txt");
        byte[] bytes = File.ReadAllBytes(vocab);
        bytes[Array.IndexOf(bytes, (byte)'!')] = 0xC3; // a lead byte followed by a newline: line 6
        File.WriteAllBytes(vocab, bytes);

        var e = Assert.ThrowsAny<MiguUserException>(() => TokenizerLoader.Load(dir));
        Assert.Equal($"{vocab}: line 6 is not valid UTF-8 text.", e.Message);
    }

    [Fact]
    public void The_wordpiece_fixture_loads_from_both_files_to_the_same_ids()
    {
        ITextTokenizer fromJson = TokenizerLoader.Load(Copy("bert", "tokenizer.json", "tokenizer_config.json"));
        ITextTokenizer fromVocab = TokenizerLoader.Load(Copy("bert", "vocab.txt", "tokenizer_config.json"));
        const string Text = "Hello world, the unaffable héllo 123 日本 zzz?";
        Assert.Equal(fromVocab.Encode(Text), fromJson.Encode(Text));
        Assert.Equal("hello world, the unaffable hello 日 本 zzz?", fromJson.Decode(fromJson.Encode(Text))); // 123 has no pieces: [UNK]
    }

    [Fact]
    public void A_tokenizer_json_that_is_not_an_object_is_refused()
    {
        string dir = Copy("gpt2json", "tokenizer.json");
        File.WriteAllText(Path.Combine(dir, "tokenizer.json"), "[1, 2]");

        var e = Assert.ThrowsAny<MiguUserException>(() => TokenizerLoader.Load(dir));
        Assert.EndsWith("tokenizer.json: expected a JSON object, found a list.", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_tokenizer_config_that_is_not_utf8_is_refused()
    {
        string dir = Copy("roberta", "vocab.json", "merges.txt", "tokenizer_config.json");
        string config = Path.Combine(dir, "tokenizer_config.json");
        byte[] bytes = File.ReadAllBytes(config);
        bytes[Array.IndexOf(bytes, (byte)'"') + 1] = 0xFF; // inside the first key
        File.WriteAllBytes(config, bytes);

        var e = Assert.ThrowsAny<MiguUserException>(() => TokenizerLoader.Load(dir));
        Assert.EndsWith("tokenizer_config.json: not valid UTF-8 text.", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_json_syntax_error_is_one_line_although_the_parser_quotes_several()
    {
        // System.Text.Json quotes the bad literal with what follows it, line breaks included.
        string dir = Copy("roberta", "vocab.json", "merges.txt", "tokenizer_config.json");
        string config = Path.Combine(dir, "tokenizer_config.json");
        File.WriteAllText(config, "{\n  \"add_prefix_space\": f\u00e0lse,\n  \"bos_token\": \"<s>\"\n}");

        var e = Assert.ThrowsAny<MiguUserException>(() => TokenizerLoader.Load(dir));
        Assert.Contains("tokenizer_config.json: not valid JSON", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Theory]
    [InlineData("1e10")]
    [InlineData("-1")]
    [InlineData("\"100\"")]
    public void T5_extra_ids_must_be_a_small_count(string value)
    {
        string dir = Copy("t5", "spiece.model", "tokenizer_config.json");
        Edit(Path.Combine(dir, "tokenizer_config.json"), "extra_ids", value);

        var e = Assert.ThrowsAny<MiguUserException>(() => TokenizerLoader.Load(dir));
        Assert.Contains("tokenizer_config.json: 'extra_ids' must be an integer from 0 to 65536", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_protobuf_length_beyond_the_file_is_refused_without_overflowing()
    {
        // The first piece's length varint replaced by 2^63: read as an int it overflowed, added to the offset it wrapped.
        string dir = Copy("llama2", "tokenizer.model", "tokenizer_config.json");
        string model = Path.Combine(dir, "tokenizer.model");
        byte[] bytes = File.ReadAllBytes(model);
        Assert.Equal(0x0A, bytes[0]); // field 1 (pieces), length-delimited
        int lengthBytes = 1;
        while ((bytes[lengthBytes] & 0x80) != 0)
        {
            lengthBytes++;
        }

        byte[] huge = [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01];
        File.WriteAllBytes(model, [bytes[0], .. huge, .. bytes[(lengthBytes + 1)..]]);

        var e = Assert.ThrowsAny<MiguUserException>(() => TokenizerLoader.Load(dir));
        Assert.EndsWith("tokenizer.model: not a SentencePiece model (truncated protobuf).", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_pre_tokenizer_pattern_that_backtracks_forever_is_stopped()
    {
        var splitter = new UnicodeRegexSplitter("(a|aa)+$", "tokenizer.json");

        var e = Assert.Throws<MiguUserException>(() => splitter.Split(new string('a', 64) + "b"));
        Assert.StartsWith("tokenizer.json: the pre-tokenizer pattern ran past 2 s", e.Message, StringComparison.Ordinal);
    }

    private string Copy(string family, params string[] files)
    {
        string dir = TokenizerFixtures.CopyOf(family, files);
        dirs.Add(dir);
        return dir;
    }

    /// <summary>Sets (or, for a null value, removes) the node at a dotted path with [i] indexes.</summary>
    private static void Edit(string file, string path, string? rawValue)
    {
        JsonNode root = JsonNode.Parse(File.ReadAllText(file))!;
        string[] steps = path.Split('.');
        JsonNode parent = root;
        for (int s = 0; s < steps.Length; s++)
        {
            string step = steps[s];
            int bracket = step.IndexOf('[', StringComparison.Ordinal);
            string name = bracket < 0 ? step : step[..bracket];
            int? index = bracket < 0 ? null : int.Parse(step[(bracket + 1)..^1], System.Globalization.CultureInfo.InvariantCulture);
            bool last = s == steps.Length - 1;
            if (!last)
            {
                parent = index is int i ? parent[name]![i]! : parent[name]!;
                continue;
            }

            JsonNode? value = rawValue is null ? null : JsonNode.Parse(rawValue);
            if (index is int at)
            {
                parent[name]![at] = value;
            }
            else if (rawValue is null)
            {
                parent.AsObject().Remove(name);
            }
            else
            {
                parent[name] = value;
            }
        }

        File.WriteAllText(file, root.ToJsonString(), new UTF8Encoding(false));
    }
}
