using Migu.Core;
using Migu.Models.Tokenizers;

namespace Migu.Models.Tests.Tokenizers;

public sealed class BpeTrainerTests
{
    private static readonly string[] Corpus =
    [
        "the cat sat on the mat", "the cat ate the rat", "a hat on the cat", "that is that",
        "Über naïve café — 東京 🙂", "numbers 12345 and 678",
    ];

    [Fact]
    public void Merges_follow_pair_frequency_and_the_vocabulary_is_specials_bytes_then_merges()
    {
        TrainedBpe bpe = ByteLevelBpeTrainer.Train(Corpus, vocabSize: 300);

        // " the" and "at" dominate: "Ġ"+"t" (5 × " the", " that"...) and "a"+"t" are the first merges.
        Assert.Equal(("a", "t"), bpe.Merges[0]);
        Assert.Equal(["<pad>", "</s>", "<s>"], bpe.Vocabulary.Take(3));
        Assert.Equal(3 + 256 + bpe.Merges.Count, bpe.Vocabulary.Count);
        Assert.Equal(bpe.Vocabulary.Count, bpe.Vocabulary.Distinct().Count());
        Assert.True(bpe.Vocabulary.Count <= 300);
    }

    [Fact]
    public void Training_is_deterministic()
    {
        TrainedBpe a = ByteLevelBpeTrainer.Train(Corpus, vocabSize: 290);
        TrainedBpe b = ByteLevelBpeTrainer.Train(Corpus.Reverse(), vocabSize: 290);
        Assert.Equal(a.Merges, b.Merges);
    }

    [Fact]
    public void A_saved_tokenizer_loads_and_round_trips_any_text_with_fewer_tokens_than_bytes()
    {
        string dir = Directory.CreateTempSubdirectory("migu-bpe").FullName;
        try
        {
            ByteLevelBpeTrainer.Save(ByteLevelBpeTrainer.Train(Corpus, vocabSize: 320), dir);
            ITextTokenizer tok = TokenizerLoader.Load(dir);

            Assert.Equal(0, tok.PadTokenId);
            Assert.Equal(1, tok.EosTokenId);
            Assert.Equal(2, tok.BosTokenId);
            foreach (string text in Corpus.Append("unseen words: zebra, 42 ✓\nnew line"))
            {
                IReadOnlyList<int> ids = tok.Encode(text);
                Assert.Equal(text, tok.Decode(ids));
                Assert.DoesNotContain(0, ids); // nothing added on encode
            }

            Assert.True(tok.Encode("the cat sat on the mat").Count < "the cat sat on the mat".Length);
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }

    [Fact]
    public void Too_small_a_vocabulary_is_refused()
    {
        var e = Assert.Throws<MiguUserException>(() => ByteLevelBpeTrainer.Train(Corpus, vocabSize: 100));
        Assert.Contains("at least 259", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_embedded_compact_tokenizer_loads_and_encodes_task_text_compactly()
    {
        ByteLevelBpeTokenizer tok = EmbeddedTokenizer.Compact();
        Assert.Equal(2048, tok.VocabSize);
        string text = "Wall St. Bears Claw Back Into the Black (Reuters) Reuters - Short-sellers are seeing green again.";
        IReadOnlyList<int> ids = tok.Encode(text);
        Assert.Equal(text, tok.Decode(ids));
        Assert.True(ids.Count * 5 < text.Length * 2, $"{ids.Count} tokens for {text.Length} characters");
        Assert.All(ids, id => Assert.InRange(id, 3, 2047));

        string dir = Directory.CreateTempSubdirectory("migu-compact").FullName;
        try
        {
            EmbeddedTokenizer.WriteCompactFiles(dir);
            Assert.Equal(ids, TokenizerLoader.Load(dir).Encode(text));
        }
        finally
        {
            Directory.Delete(dir, recursive: true);
        }
    }
}
