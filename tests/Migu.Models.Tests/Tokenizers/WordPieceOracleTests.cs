using System.Text;
using System.Text.Json;
using Migu.Models.Tests.Import;
using Migu.Models.Tokenizers;
using HfTokenizer = Tokenizers.DotNet.Tokenizer;

namespace Migu.Models.Tests.Tokenizers;

/// <summary>
/// Our WordPiece tokenizer against Hugging Face's own (Rust) tokenizers, through Tokenizers.DotNet,
/// on MiniLM's vocabulary: the oracle reads a tokenizer.json made from the vocabulary, ours reads
/// vocab.txt (and the same tokenizer.json). Hard strings and the demo tasks' real sentences.
/// </summary>
[Collection(MiniLmShared.Name)]
public sealed class WordPieceOracleTests(MiniLmPackage minilm) : IDisposable
{
    /// <summary>Accents, CJK, emoji, control and format characters, punctuation and symbols, long words, whitespace runs, mixed scripts.</summary>
    public static readonly TheoryData<string> HardStrings =
    [
        "Hello, World! How's it going?",
        "Crème brûlée, naïve façade, Ångström, São Paulo, Ærø, Łódź, İstanbul, ß",
        "中文分词测试：北京欢迎你。日本語のテキスト、한국어 문장도 있다.",
        "emoji 😀👍🏽 family 👨‍👩‍👧 flag 🇫🇷 and 🫠 melting",
        "tab\there\r\nnew line\u000bvertical\u000cform\u0085next\u2028line\u2029para",
        "zero\u200bwidth\u200dzwj\u00adsoft\ufeffbom\u0000nul\ufffdrepl\u0007bell",
        "$100 + 5% = ^_^ | ~tilde` <tag> {json: [1, 2]} @user #hash & a*b/c\\d",
        "«guillemets» „quotes“ ‘single’ — em-dash – en-dash … ellipsis ¿qué? ¡sí!",
        "supercalifragilisticexpialidocious antidisestablishmentarianism pneumonoultramicroscopicsilicovolcanoconiosis",
        new string('a', 99) + " " + new string('b', 100) + " " + new string('c', 101),
        "   leading   and    trailing   spaces   ",
        "\u00a0non-breaking\u2003em space\u3000ideographic space",
        "Ελληνικά Кириллица العربية עברית हिन्दी ไทย Tiếng Việt",
        "don't can't won't it's we're I'm they've",
        "[CLS] tokens [SEP] in text [MASK] and [UNK] and [PAD]",
        "ＦＵＬＬＷＩＤＴＨ ｌｅｔｔｅｒｓ ① ℌ ﬁ ligature ㎏",
        "U.S.A. e-mail 3.14159 1,000,000 2024-01-01 12:30",
        "a\u0301 e\u0300 combining marks o\u0308\u0304",
        "",
        "𝒜𝓁𝓅𝒽𝒶 math letters 𝟙𝟚𝟛",
    ];

    private readonly string temp = Directory.CreateTempSubdirectory("migu-wordpiece-").FullName;

    public void Dispose() => Directory.Delete(temp, recursive: true);

    [Theory]
    [MemberData(nameof(HardStrings))]
    public void Hard_strings_give_the_ids_of_hugging_face_tokenizers(string text)
    {
        using var oracle = Oracle(lowercase: true);
        WordPieceTokenizer ours = FromVocab();
        Assert.Equal(Ids(oracle, text), ours.Encode(text).ToArray());
    }

    [Theory]
    [MemberData(nameof(HardStrings))]
    public void Hard_strings_match_without_lower_casing_too(string text)
    {
        using var oracle = Oracle(lowercase: false);
        ITextTokenizer ours = TokenizerLoader.Load(Path.Combine(temp, "cased"));
        Assert.Equal(Ids(oracle, text), ours.Encode(text).ToArray());
    }

    [Fact]
    public void Hundreds_of_real_sentences_give_the_same_ids_from_vocab_txt_and_from_tokenizer_json()
    {
        using var oracle = Oracle(lowercase: true);
        WordPieceTokenizer fromVocab = FromVocab();
        ITextTokenizer fromJson = TokenizerLoader.Load(Path.Combine(temp, "uncased"));
        List<string> sentences = RealSentences(perTask: 100);
        Assert.True(sentences.Count >= 300, $"only {sentences.Count} sentences");
        foreach (string s in sentences)
        {
            int[] expected = Ids(oracle, s);
            Assert.Equal(expected, fromVocab.Encode(s).ToArray());
            Assert.Equal(expected, fromJson.Encode(s).ToArray());
        }
    }

    [Fact]
    public void The_committed_wordpiece_fixture_reads_in_hugging_face_tokenizers_to_our_ids()
    {
        // Fixtures/tokenizers/bert (tools/make_wordpiece_fixture.py), which the loader fuzz test mutates: written by a script, read by both.
        string fixture = Path.Combine(AppContext.BaseDirectory, "Fixtures", "tokenizers", "bert");
        using var oracle = new HfTokenizer(Path.Combine(fixture, "tokenizer.json"));
        ITextTokenizer ours = TokenizerLoader.Load(fixture);
        foreach (string text in HardStrings.Cast<object[]>().Select(row => (string)row[0]).Append("Hello world, the unaffable héllo 123 日本 zzz?"))
        {
            Assert.Equal(Ids(oracle, text), ours.Encode(text).ToArray());
        }
    }

    [Fact]
    public void Decoding_joins_continuations_and_skips_special_tokens()
    {
        WordPieceTokenizer ours = FromVocab();
        IReadOnlyList<int> ids = ours.Encode("Unaffable tokenization, isn't it?");
        Assert.Equal(ours.ClsTokenId, ids[0]);
        Assert.Equal(ours.SepTokenId, ids[^1]);
        Assert.Equal("unaffable tokenization, isn't it?", ours.Decode(ids));
        Assert.StartsWith("[CLS] unaffable", ours.Decode(ids, skipSpecialTokens: false), StringComparison.Ordinal);
        Assert.Equal(0, ours.PadTokenId);
    }

    [Fact]
    public void A_vocabulary_without_cls_is_refused_by_name()
    {
        string text = Encoding.UTF8.GetString(minilm.Package.Vocabulary.Bytes).Replace("[CLS]", "[NOT_CLS]", StringComparison.Ordinal);
        Assert.Contains("no [CLS] token", Assert.Throws<Migu.Core.MiguUserException>(() => WordPieceTokenizer.FromVocabText(text, "v.txt")).Message);
    }

    private WordPieceTokenizer FromVocab() => WordPieceTokenizer.FromVocabText(Encoding.UTF8.GetString(minilm.Package.Vocabulary.Bytes), "MiniLM vocab.txt");

    /// <summary>HF's tokenizer on a tokenizer.json we write from the vocabulary (saved under uncased/ or cased/ for our loader too).</summary>
    private HfTokenizer Oracle(bool lowercase)
    {
        Dictionary<string, int> vocab = WordPieceTokenizer.ReadVocab(Encoding.UTF8.GetString(minilm.Package.Vocabulary.Bytes));
        string dir = Path.Combine(temp, lowercase ? "uncased" : "cased");
        Directory.CreateDirectory(dir);
        string path = Path.Combine(dir, "tokenizer.json");
        File.WriteAllText(path, WordPieceFiles.TokenizerJson(vocab, lowercase));
        return new HfTokenizer(path);
    }

    private static int[] Ids(HfTokenizer oracle, string text) => [.. oracle.Encode(text).Select(v => checked((int)v))];

    /// <summary>The first sentences of the demo tasks' training splits (a sample of the shared CL benchmark, shipped in the repository).</summary>
    internal static List<string> RealSentences(int perTask)
    {
        string root = RepoRoot();
        var sentences = new List<string>();
        foreach (string task in new[] { "TC/agnews", "TC/dbpedia", "SC/amazon", "SC/yelp" })
        {
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllText(Path.Combine(root, "src", "Migu.Continual", "Data", "Demo", task, "train.json")));
            sentences.AddRange(doc.RootElement.EnumerateArray().Take(perTask).Select(e => e.GetProperty("sentence").GetString()!));
        }

        return sentences;
    }

    private static string RepoRoot()
    {
        for (var dir = new DirectoryInfo(AppContext.BaseDirectory); dir is not null; dir = dir.Parent)
        {
            if (File.Exists(Path.Combine(dir.FullName, "Migu.slnx")))
            {
                return dir.FullName;
            }
        }

        throw new DirectoryNotFoundException("cannot find the repository root (Migu.slnx) above " + AppContext.BaseDirectory);
    }
}
