using Migu.Core.Runtime;
using Migu.Models.Blocks;
using Migu.Models.Llama;
using Migu.Models.T5;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Tests.Blocks;

/// <summary>
/// The model-side speed levers against the code they replace: the chunked cross-entropy (loss and
/// every gradient), and aten::rms_norm inside whole models (fp32 equal to rounding, bf16 within it).
/// </summary>
public sealed class ModelLeverTests
{
    private static readonly PerformanceLevers Off = PerformanceLevers.None;

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    public void Chunked_cross_entropy_has_cross_entropys_loss_and_gradient(ScalarType dtype)
    {
        long saved = TokenCrossEntropy.Chunked.ChunkElements;
        TokenCrossEntropy.Chunked.ChunkElements = 7 * 50; // 7 rows per chunk: 23 rows → 4 chunks, the last short
        try
        {
            manual_seed(1);
            using Tensor logits = randn(23, 50).mul_(3).to(dtype);
            using Tensor targets = randint(0, 50, [23], dtype: ScalarType.Int64);
            targets[4] = tensor(TokenCrossEntropy.IgnoreIndex);
            targets[17] = tensor(TokenCrossEntropy.IgnoreIndex);
            var (lossA, gradA) = LossAndGradient(Off, logits, targets);
            var (lossB, gradB) = LossAndGradient(Off with { ChunkedCrossEntropy = true }, logits, targets);

            Assert.Equal(lossA, lossB, 5);
            // fp32: a few ulps (exp(x − lse) against exp(x − max) / Σ); bf16: one rounding step of the final cast.
            double tolerance = dtype == ScalarType.Float32 ? 2e-6 : 1.0 / 128;
            for (int i = 0; i < gradA.Length; i++)
            {
                Assert.True(Math.Abs(gradA[i] - gradB[i]) <= 1e-9 + (tolerance * Math.Abs(gradA[i])), $"gradient[{i}]: {gradA[i]} vs {gradB[i]}");
            }

            Assert.All(Enumerable.Range(0, 50), c => Assert.Equal(0f, gradB[(4 * 50) + c])); // an ignored row gets no gradient
        }
        finally
        {
            TokenCrossEntropy.Chunked.ChunkElements = saved;
        }
    }

    [Fact]
    public void Llamas_causal_loss_with_shifted_labels_equals_the_loss_over_shifted_logits()
    {
        var (lossA, gradsA) = LlamaStep(Off);
        var (lossB, gradsB) = LlamaStep(Off with { ChunkedCrossEntropy = true });

        Assert.Equal(lossA, lossB, 5);
        foreach (var (name, a) in gradsA)
        {
            TestClose(a, gradsB[name], 1e-5, name);
        }
    }

    [Theory]
    [InlineData(ScalarType.Float32)]
    [InlineData(ScalarType.BFloat16)]
    public void Fused_rmsnorm_keeps_llama_and_t5_outputs(ScalarType dtype)
    {
        float[] Llama(PerformanceLevers levers)
        {
            using var use = PerformanceLevers.Use(levers);
            manual_seed(2);
            using var model = new LlamaForCausalLM(LlamaPresets.All["llama-tiny"]);
            model.to(dtype);
            using Tensor ids = randint(0, 512, [2, 9], dtype: ScalarType.Int64);
            using var scope = NewDisposeScope();
            return Values(model.forward(new ModelBatch { InputIds = ids }).Logits);
        }

        float[] T5(PerformanceLevers levers)
        {
            using var use = PerformanceLevers.Use(levers);
            manual_seed(3);
            using var model = new T5ForConditionalGeneration(T5Presets.All["t5-tiny"]);
            model.to(dtype);
            using Tensor ids = randint(0, 128, [2, 7], dtype: ScalarType.Int64);
            using Tensor labels = randint(0, 128, [2, 4], dtype: ScalarType.Int64);
            using var scope = NewDisposeScope();
            return Values(model.forward(new ModelBatch { InputIds = ids, Labels = labels }).Logits);
        }

        // bf16: aten::rms_norm rounds once (after the weight), the formula twice; a few bf16 steps through the layers.
        double relative = dtype == ScalarType.Float32 ? 1e-5 : 0.05;
        TestClose(Llama(Off), Llama(Off with { FusedRmsNorm = true }), relative, "llama logits");
        TestClose(T5(Off), T5(Off with { FusedRmsNorm = true }), relative, "t5 logits");
    }

    private static (double Loss, float[] Gradient) LossAndGradient(PerformanceLevers levers, Tensor logits, Tensor targets)
    {
        using var use = PerformanceLevers.Use(levers);
        using Tensor x = logits.detach().clone().requires_grad_(true);
        using var scope = NewDisposeScope();
        Tensor loss = TokenCrossEntropy.Mean(x, targets);
        loss.mul(1.7).backward(); // an upstream gradient other than 1
        return (loss.item<float>(), Values(x.grad!));
    }

    private static (double Loss, Dictionary<string, float[]> Gradients) LlamaStep(PerformanceLevers levers)
    {
        using var use = PerformanceLevers.Use(levers);
        manual_seed(4);
        using var model = new LlamaForCausalLM(LlamaPresets.All["llama-tiny"]);
        using Tensor ids = randint(0, 512, [3, 10], dtype: ScalarType.Int64);
        using Tensor labels = ids.clone();
        labels[1, 6] = tensor(TokenCrossEntropy.IgnoreIndex);
        using var scope = NewDisposeScope();
        Tensor loss = model.forward(new ModelBatch { InputIds = ids, Labels = labels }).Loss!;
        loss.backward();
        return (loss.item<float>(), model.named_parameters().ToDictionary(kv => kv.name, kv => Values(kv.parameter.grad!)));
    }

    private static void TestClose(float[] expected, float[] actual, double relative, string what)
    {
        Assert.Equal(expected.Length, actual.Length);
        double scale = expected.Max(v => Math.Abs(v));
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= relative * scale, $"{what}[{i}]: {expected[i]} vs {actual[i]}");
        }
    }

    private static float[] Values(Tensor t) => t.detach().to(ScalarType.Float32).reshape(-1).data<float>().ToArray();
}
