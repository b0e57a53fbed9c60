using Migu.Continual.Evaluation;
using Migu.Continual.Recipes;
using Migu.Continual.Runs;
using Migu.Continual.Training;
using Migu.Models;
using static TorchSharp.torch;

namespace Migu.Distributed.Tests;

public sealed class ShardedEvaluationTests
{
    private static readonly string[] Prompts =
        [.. Enumerable.Range(0, 11).Select(i => $"Task:TC\nDataset:colors\nsentence {i} {new string('x', i % 4)} says {(i % 3 == 0 ? "red" : "blue")}\nAnswer:")];

    [Theory]
    [InlineData("t5-tiny", EvalMode.Generate, 3)]
    [InlineData("llama-tiny", EvalMode.Rank, 4)]
    public void The_ranks_shares_are_disjoint_and_together_are_one_process_answers(string preset, EvalMode mode, int world)
    {
        manual_seed(11);
        var (model, tokenizer) = ModelLoader.LoadWithTokenizer(preset, null, CPU);
        using var owned = model;
        var encoder = new ExampleEncoder(tokenizer, model.Family, 48, 4);
        var predictor = new TaskPredictor(model, encoder, new EvalSettings { Mode = mode, Batch = 4, MaxNewTokens = 3 }, CPU);
        string[] labels = ["red", "blue"];

        IReadOnlyList<string> whole = predictor.Predict(Prompts, labels);
        var shares = Enumerable.Range(0, world).Select(r => predictor.PredictShard(Prompts, labels, r, world)).ToList();

        Assert.Equal(Prompts.Length, shares.Sum(s => s.Count));
        Assert.Equal(Enumerable.Range(0, Prompts.Length), shares.SelectMany(s => s.Keys).Order());
        Assert.All(shares, s => Assert.NotEmpty(s)); // every rank has work with batches of 4 (or 2 for ranking two labels)
        foreach (var share in shares)
        {
            foreach (var (index, answer) in share)
            {
                Assert.Equal(whole[index], answer);
            }
        }
    }
}
