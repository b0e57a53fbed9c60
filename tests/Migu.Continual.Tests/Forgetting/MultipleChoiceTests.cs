using Migu.Continual.Evaluation;
using Migu.Core;
using static TorchSharp.torch;

namespace Migu.Continual.Tests.Forgetting;

public sealed class MultipleChoiceTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("migu-mc").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void A_choice_scores_the_sum_of_its_tokens_log_probabilities_after_bos_context_and_a_space()
    {
        using var model = TinyDecoder.Create(11);
        var tokenizer = TinyDecoder.Tokenizer;
        MultipleChoiceItem[] items =
        [
            new("The cat sat on the", ["mat", "quantum physics lecture"], 0),
            new("Two plus two is", ["four", "five", "a small fish"], 0),
        ];

        // Batches of 3 pairs mix items and pad short pairs: the scores must not notice.
        IReadOnlyList<double[]> scores = new MultipleChoiceScorer(model, tokenizer, CPU, batchSize: 3).LogLikelihoods(items);

        for (int q = 0; q < items.Length; q++)
        {
            for (int c = 0; c < items[q].Choices.Count; c++)
            {
                int[] context = [2, .. tokenizer.Encode(items[q].Context, false)];
                int[] choice = [.. tokenizer.Encode(" " + items[q].Choices[c], false)];
                double[] logp = TinyDecoder.TokenLogProbs(model, [.. context, .. choice]);
                double byHand = logp[(context.Length - 1)..].Sum(); // the choice's tokens only
                Assert.Equal(byHand, scores[q][c], 1e-4);
            }
        }
    }

    [Fact]
    public void Accuracy_takes_the_highest_sum_and_normalized_accuracy_divides_by_characters_first()
    {
        MultipleChoiceItem[] items =
        [
            new("q1", ["a", "bbbbbbbbbb"], 1), // sums −2, −5: the sum picks "a" (wrong); per character −2 vs −0.5 picks the long one (right)
            new("q2", ["yes", "no"], 0), // a tie goes to the first (right); per character −1/3 beats −1/2 (right)
        ];
        var score = MultipleChoiceScore.Of(items, [[-2, -5], [-1, -1]]);
        Assert.Equal(0.5, score.Accuracy);
        Assert.Equal(1.0, score.NormalizedAccuracy);
        Assert.Equal(2, score.Count);
        Assert.Equal(6, MultipleChoiceScore.Characters("héllo😀")); // code points, as Python's len
    }

    [Fact]
    public void Files_give_answers_by_index_or_text_and_problems_name_the_line()
    {
        string file = Write("mc.jsonl", """
            {"context": "Sky is", "choices": ["blue", "green"], "answer": 0}

            {"context": "Grass is", "choices": ["blue", "green"], "answer": "green"}
            {"context": "Snow is", "choices": ["white", "black"], "answer": 0}
            """);
        var all = MultipleChoiceFile.Read(file);
        Assert.Equal([0, 1, 0], all.Select(i => i.Answer));
        Assert.Equal(2, MultipleChoiceFile.Read(file, maxItems: 2).Count);

        Assert.Contains("line 1: \"answer\" must be a choice's index", Problem("{\"context\": \"x\", \"choices\": [\"a\", \"b\"], \"answer\": 2}"), StringComparison.Ordinal);
        Assert.Contains("line 1: at least two choices", Problem("{\"context\": \"x\", \"choices\": [\"a\"], \"answer\": 0}"), StringComparison.Ordinal);
        Assert.Contains("line 1: \"context\" must be a string", Problem("{\"choices\": [\"a\", \"b\"], \"answer\": 0}"), StringComparison.Ordinal);
        Assert.Contains("line 1 is not JSON", Problem("{context"), StringComparison.Ordinal);
    }

    [Fact]
    public void The_shipped_example_benchmark_reads()
    {
        string example = RepoFiles.Path("recipes", "data", "example-mc.jsonl");
        var items = MultipleChoiceFile.Read(example);
        Assert.True(items.Count >= 10);
        Assert.All(items, i => Assert.InRange(i.Answer, 0, i.Choices.Count - 1));
    }

    [Fact]
    public void Perplexity_is_exp_of_the_mean_nll_over_every_predicted_token()
    {
        using var model = TinyDecoder.Create(12);
        int[][] windows = [[2, 300, 301, 302, 1], [2, 400, 401]];
        var tokens = Migu.Continual.Pretraining.ObjectiveTokens.Of(TinyDecoder.Tokenizer);
        double ppl = Perplexity.Of(model, windows, tokens, batchSize: 2, CPU);

        double[] all = [.. windows.SelectMany(w => TinyDecoder.TokenLogProbs(model, w))]; // 4 + 2 predicted tokens
        Assert.Equal(6, all.Length);
        Assert.Equal(Math.Exp(-all.Average()), ppl, 2);
        Assert.Equal(1.0, Math.Log(ppl) / -all.Average(), 4);
    }

    private string Write(string name, string text)
    {
        string path = Path.Combine(root, name);
        File.WriteAllText(path, text);
        return path;
    }

    private string Problem(string line) => Assert.Throws<MiguUserException>(() => MultipleChoiceFile.Read(Write("bad.jsonl", line))).Message;
}
