using Migu.Continual.Analysis;
using Migu.Continual.Prompts;
using Migu.Continual.Runs;
using Migu.Continual.Training;
using Migu.Core;
using Migu.Models;
using Migu.Models.Llama;
using Migu.Models.T5;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Continual.Tests.Analysis;

/// <summary>
/// The collector's sums against a hand computation: the first block's query projection applied to
/// its input (embedding, then the block's norm) one example at a time, so nothing is padded, while
/// the collector runs both examples as one right-padded batch.
/// </summary>
public class MagnitudeCollectorTests
{
    // Different lengths, so the batch pads the shorter prompt and the shorter answer.
    private static readonly PromptedExample[] Pairs =
    [
        new("Task:TC\nDataset:demo\nshort one\nAnswer:", "yes"),
        new("Task:TC\nDataset:demo\na much longer sentence, with many more words in it than the first\nAnswer:", "a longer answer"),
    ];

    [Fact]
    public void Llama_sums_equal_the_query_projection_of_each_unpadded_example()
    {
        manual_seed(5);
        var (model, tokenizer) = ModelLoader.LoadWithTokenizer("llama-tiny", null, CPU);
        using var owned = model;
        model.eval();
        var encoder = new ExampleEncoder(tokenizer, LlamaFamily.Instance, 64, 16);
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module);
        var q = (Projection)modules["model.layers.0.self_attn.q_proj"];
        var embed = (nn.Module<Tensor, Tensor>)modules["model.embed_tokens"];
        var norm = (nn.Module<Tensor, Tensor>)modules["model.layers.0.input_layernorm"];

        var encoded = Pairs.Select(encoder.Encode).ToList();
        Assert.NotEqual(encoded[0].Tokens, encoded[1].Tokens);
        double[] expected = Sum(encoded.Select(e => QueryMagnitudes(q, embed, norm, [.. e.Source, .. e.Target])));

        double[][][] sums = MagnitudeCollector.Collect(model, Batches(encoder), [new AnalysisLayer("q", q)], [new TaskSample("demo", Pairs)], batch: 2, CPU);

        AssertClose(expected, sums[0][0]);
    }

    [Fact]
    public void T5_sums_count_prompt_tokens_in_the_encoder_and_answer_tokens_in_the_decoder()
    {
        manual_seed(6);
        var (model, tokenizer) = ModelLoader.LoadWithTokenizer("t5-tiny", null, CPU);
        using var owned = model;
        model.eval();
        var t5 = (T5ForConditionalGeneration)model;
        var encoder = new ExampleEncoder(tokenizer, T5Family.Instance, 64, 16);
        var modules = model.named_modules().ToDictionary(m => m.name, m => m.module);
        var shared = (nn.Module<Tensor, Tensor>)modules["shared"];
        var encQ = (Projection)modules["encoder.block.0.layer.0.SelfAttention.q"];
        var decQ = (Projection)modules["decoder.block.0.layer.0.SelfAttention.q"];
        var encNorm = (nn.Module<Tensor, Tensor>)modules["encoder.block.0.layer.0.layer_norm"];
        var decNorm = (nn.Module<Tensor, Tensor>)modules["decoder.block.0.layer.0.layer_norm"];

        var encoded = Pairs.Select(encoder.Encode).ToList();
        double[] expectedEncoder = Sum(encoded.Select(e => QueryMagnitudes(encQ, shared, encNorm, e.Source)));
        // The decoder reads the answer shifted right behind its start token (teacher forcing).
        double[] expectedDecoder = Sum(encoded.Select(e => QueryMagnitudes(decQ, shared, decNorm, [(int)t5.Config.DecoderStartTokenId, .. e.Target[..^1]])));

        double[][][] sums = MagnitudeCollector.Collect(
            model, Batches(encoder), [new AnalysisLayer("enc", encQ), new AnalysisLayer("dec", decQ)], [new TaskSample("demo", Pairs)], batch: 2, CPU);

        AssertClose(expectedEncoder, sums[0][0]);
        AssertClose(expectedDecoder, sums[0][1]);
    }

    [Fact]
    public void Each_task_starts_from_zero_and_batching_does_not_change_the_sums()
    {
        manual_seed(7);
        var (model, tokenizer) = ModelLoader.LoadWithTokenizer("llama-tiny", null, CPU);
        using var owned = model;
        model.eval();
        var encoder = new ExampleEncoder(tokenizer, LlamaFamily.Instance, 64, 16);
        var layers = LayerChoice.All(model);
        TaskSample[] tasks = [new("a", Pairs), new("b", [Pairs[0]]), new("a again", Pairs)];

        double[][][] one = MagnitudeCollector.Collect(model, Batches(encoder), layers, tasks, batch: 1, CPU);
        double[][][] two = MagnitudeCollector.Collect(model, Batches(encoder), layers, tasks, batch: 2, CPU);

        for (int l = 0; l < layers.Count; l++)
        {
            AssertClose(one[0][l], two[0][l]);
            AssertClose(one[0][l], one[2][l]); // not carried over from task b
            Assert.True(one[1][l].Sum() < one[0][l].Sum(), $"{layers[l].Name}: one example gave no less than two");
        }

        Assert.All(layers, l => Assert.Null(l.Projection.MagnitudeAccumulator)); // uninstalled afterwards
    }

    /// <summary>Σ over tokens of |q(norm(embed(ids)))| per output unit, for one unpadded sequence.</summary>
    private static double[] QueryMagnitudes(Projection q, nn.Module<Tensor, Tensor> embed, nn.Module<Tensor, Tensor> norm, int[] ids)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor x = norm.call(embed.call(tensor(ids.Select(i => (long)i).ToArray()).unsqueeze(0))); // (1, T, d_model)
        Tensor y = nn.functional.linear(x, q.Weight, q.Bias); // (1, T, d_out)
        return [.. y.abs().sum([0, 1]).data<float>().ToArray().Select(v => (double)v)];
    }

    private static double[] Sum(IEnumerable<double[]> vectors)
    {
        var list = vectors.ToList();
        return [.. Enumerable.Range(0, list[0].Length).Select(i => list.Sum(v => v[i]))];
    }

    private static void AssertClose(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 * Math.Max(1, Math.Abs(expected[i])), $"unit {i}: {actual[i]} vs {expected[i]}");
        }
    }

    private static Func<TaskSample, ITrainingData> Batches(ExampleEncoder encoder) =>
        sample => new EncodedTaskData([.. sample.Examples.Select(encoder.Encode)], encoder);
}
