using Migu.Core;
using Migu.Models.Tokenizers;

namespace Migu.Models.Tests.Tokenizers;

/// <summary>Pieces under the loaders: the astral-safe regex split, the bos_id patch, the loader's errors.</summary>
public class TokenizerPartsTests
{
    private const string Llama3Pattern = @"(?i:'s|'t|'re|'ve|'m|'ll|'d)|[^\r\n\p{L}\p{N}]?\p{L}+|\p{N}{1,3}| ?[^\s\p{L}\p{N}]+[\r\n]*|\s*[\r\n]+|\s+(?!\S)|\s+";

    [Fact]
    public void Regex_split_treats_an_emoji_as_one_code_point_like_the_rust_library()
    {
        // One optional non-letter code point before letters: the emoji and "abc" are one piece there;
        // a UTF-16 regex would see two surrogate units and split them apart.
        var splitter = new UnicodeRegexSplitter(Llama3Pattern);
        Assert.Equal(["😀abc", " ", "123", "456", "7"], splitter.Split("😀abc 1234567"));
    }

    [Fact]
    public void Regex_split_counts_astral_letters_and_digits_as_letters_and_digits()
    {
        var splitter = new UnicodeRegexSplitter(Llama3Pattern);
        Assert.Equal(["𝐀𝐁c", " ", "𝟏𝟐𝟑", "𝟒"], splitter.Split("𝐀𝐁c 𝟏𝟐𝟑𝟒"));
    }

    [Fact]
    public void Regex_split_keeps_unmatched_gaps_as_pieces()
    {
        var splitter = new UnicodeRegexSplitter("b+");
        Assert.Equal(["a", "bb", "c"], splitter.Split("abbc"));
        Assert.Empty(splitter.Split(""));
    }

    [Fact]
    public void Bos_patch_sets_a_missing_bos_id_and_leaves_other_models_alone()
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizers");
        byte[] t5 = File.ReadAllBytes(Path.Combine(dir, "t5", "spiece.model"));
        byte[] llama = File.ReadAllBytes(Path.Combine(dir, "llama2", "tokenizer.model"));
        byte[] patched = SentencePieceModelFile.WithBosId(t5, "spiece.model");
        Assert.NotEqual(t5, patched);
        Assert.Equal(llama, SentencePieceModelFile.WithBosId(llama, "tokenizer.model"));
        Assert.Equal(SentencePieceModelFile.PieceCount(t5, "t5"), SentencePieceModelFile.PieceCount(patched, "t5"));
        Assert.Equal(226, SentencePieceModelFile.PieceCount(t5, "t5"));
    }

    [Fact]
    public void Merges_derived_from_a_sentencepiece_bpe_model_equal_the_ones_transformers_wrote()
    {
        string dir = Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizers", "llama2");
        byte[] model = File.ReadAllBytes(Path.Combine(dir, "tokenizer.model"));
        var pieces = SentencePieceModelFile.ReadPieces(model, "tokenizer.model");
        Assert.Equal(600, pieces.Count);
        Assert.Equal(("<unk>", 2), (pieces[0].Piece, pieces[0].Type));
        var vocab = pieces.Select((p, i) => (p.Piece, i)).ToDictionary(x => x.Piece, x => x.i);
        var json = System.Text.Json.JsonDocument.Parse(File.ReadAllText(Path.Combine(dir, "tokenizer.json"))).RootElement;
        var written = ByteLevelBpeLoader.ReadMerges(json.GetProperty("model").GetProperty("merges"), "tokenizer.json");
        Assert.Equal(written, SentencePieceMerges.Derive(pieces, vocab));
    }

    [Fact]
    public void Model_type_is_read_from_the_trainer_spec_and_a_unigram_llama_model_is_refused()
    {
        string fixtures = Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizers");
        Assert.Equal(1, SentencePieceModelFile.ModelType(File.ReadAllBytes(Path.Combine(fixtures, "t5", "spiece.model")), "t5"));
        Assert.Equal(2, SentencePieceModelFile.ModelType(File.ReadAllBytes(Path.Combine(fixtures, "llama2", "tokenizer.model")), "llama2"));
        string dir = TempDir();
        try
        {
            File.Copy(Path.Combine(fixtures, "t5", "spiece.model"), Path.Combine(dir, "tokenizer.model"));
            var e = Assert.Throws<MiguUserException>(() => TokenizerLoader.Load(dir));
            Assert.Contains("BPE", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Special_tokens_map_names_specials_that_tokenizer_config_leaves_out()
    {
        string fixtures = Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizers", "roberta");
        string dir = TempDir();
        try
        {
            File.Copy(Path.Combine(fixtures, "vocab.json"), Path.Combine(dir, "vocab.json"));
            File.Copy(Path.Combine(fixtures, "merges.txt"), Path.Combine(dir, "merges.txt"));
            File.WriteAllText(Path.Combine(dir, "special_tokens_map.json"), """{"pad_token": {"content": "<unk>"}, "eos_token": "<mask>"}""");
            ITextTokenizer tokenizer = TokenizerLoader.Load(dir);
            Assert.Equal(3, tokenizer.PadTokenId);
            Assert.Equal(4, tokenizer.EosTokenId);
            Assert.Equal(0, tokenizer.BosTokenId);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Bad_sentencepiece_file_is_a_user_error_naming_it()
    {
        string dir = TempDir();
        try
        {
            File.WriteAllBytes(Path.Combine(dir, "spiece.model"), [0x0A, 0xFF]);
            var e = Assert.Throws<MiguUserException>(() => TokenizerLoader.Load(dir));
            Assert.Contains("spiece.model", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Directory_without_tokenizer_files_is_a_user_error()
    {
        string dir = TempDir();
        try
        {
            var e = Assert.Throws<MiguUserException>(() => TokenizerLoader.Load(dir));
            Assert.Contains("no tokenizer found", e.Message, StringComparison.Ordinal);
            Assert.Throws<MiguUserException>(() => TokenizerLoader.Load(Path.Combine(dir, "missing")));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Non_byte_level_tokenizer_json_alone_is_a_user_error()
    {
        string dir = TempDir();
        try
        {
            // T5's tokenizer.json (Unigram) without its spiece.model.
            File.Copy(Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizers", "t5", "tokenizer.json"), Path.Combine(dir, "tokenizer.json"));
            var e = Assert.Throws<MiguUserException>(() => TokenizerLoader.Load(dir));
            Assert.Contains("byte-level BPE", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Added_token_with_lstrip_swallows_the_space_before_it()
    {
        var splitter = new AddedTokenSplitter([new AddedToken(4, "<mask>", Special: true, LStrip: true)]);
        var pieces = splitter.Split("a  <mask> b");
        Assert.Equal(["a", "<mask>", " b"], pieces.Select(p => p.Text));
        Assert.Equal(4, pieces[1].Token!.Id);
    }

    private static string TempDir()
    {
        string dir = Path.Combine(Path.GetTempPath(), "migu-tok-" + Guid.NewGuid().ToString("N"));
        Directory.CreateDirectory(dir);
        return dir;
    }
}
