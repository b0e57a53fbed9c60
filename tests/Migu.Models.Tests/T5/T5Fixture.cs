using System.Text.Json;
using Migu.Core;
using Migu.Models.T5;
using static TorchSharp.torch;

namespace Migu.Models.Tests.T5;

/// <summary>
/// Fixtures/t5/{v10,v11}: tiny checkpoints saved by transformers 5.17 and what it computed on them
/// (tools/parity_t5.py). v10: relu, tied head, decoder output scaled. v11: gated-gelu, head not scaled
/// (5.17 ties it: it forces tie_word_embeddings and keeps the legacy flag as scale_decoder_outputs).
/// </summary>
internal sealed class T5Fixture
{
    public const double Atol = 1e-5;
    public const double Rtol = 1e-4;
    public const double Scale = 1e-5;

    /// <summary>
    /// The floor for gradients: v11's are ill-conditioned (loss 8.8, gradients up to 8.8) and the
    /// fixture's own fp32 rounding is about 3e-5 of their scale: our model run in fp64 differs from it
    /// by 2.8e-5 of the scale, as much as our fp32 run (3.4e-5).
    /// </summary>
    public const double GradientScale = 5e-5;

    private T5Fixture(string name)
    {
        Name = name;
        Directory = Path.Combine(Root, name);
        Json = JsonDocument.Parse(File.ReadAllText(Path.Combine(Root, name + ".json"))).RootElement;
        Batch = Json.GetProperty("batch").GetInt64();
        EncoderLength = Json.GetProperty("enc_len").GetInt64();
        DecoderLength = Json.GetProperty("dec_len").GetInt64();
        Vocab = Json.GetProperty("vocab").GetInt64();
    }

    public static string Root => Path.Combine(AppContext.BaseDirectory, "Fixtures", "t5");

    public string Name { get; }

    public string Directory { get; }

    public JsonElement Json { get; }

    public long Batch { get; }

    public long EncoderLength { get; }

    public long DecoderLength { get; }

    public long Vocab { get; }

    public static T5Fixture Load(string name) => new(name);

    public Tensor InputIds() => Longs("input_ids").reshape(Batch, EncoderLength);

    public Tensor AttentionMask() => Longs("attention_mask").reshape(Batch, EncoderLength);

    public Tensor Labels() => Longs("labels").reshape(Batch, DecoderLength);

    public Tensor DecoderAttentionMask() => Longs("decoder_attention_mask").reshape(Batch, DecoderLength);

    public Tensor DecoderInputIds() => Longs("decoder_input_ids").reshape(Batch, DecoderLength);

    public double[] Doubles(string key) => ToDoubles(Json.GetProperty(key));

    public static double[] ToDoubles(JsonElement array) => array.EnumerateArray().Select(e => e.GetDouble()).ToArray();

    public static double[] Values(Tensor t)
    {
        using Tensor flat = t.detach().cpu().to(ScalarType.Float64).reshape(-1);
        return flat.data<double>().ToArray();
    }

    /// <summary>
    /// |Δ| ≤ Atol + Rtol·|e| + Scale·max|E|: fp32 sums round relative to their summands, so a value near
    /// zero in a tensor of large values carries the larger values' rounding (transformers' own two
    /// forwards of the same v11 positions, with and without an all-ones decoder mask, differ by 1e-5 of
    /// the logits' scale).
    /// </summary>
    public static void AssertClose(double[] expected, double[] actual, string what, double scale = Scale)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} values, expected {expected.Length}");
        double floor = Atol + (scale * expected.Select(Math.Abs).DefaultIfEmpty(0).Max());
        for (int i = 0; i < expected.Length; i++)
        {
            double tolerance = floor + (Rtol * Math.Abs(expected[i]));
            Assert.True(
                Math.Abs(expected[i] - actual[i]) <= tolerance,
                $"{what}[{i}]: {actual[i]:R}, expected {expected[i]:R} (|Δ| {Math.Abs(expected[i] - actual[i]):E2} > {tolerance:E2})");
        }
    }

    /// <summary>The model's projections by module name, each with a fresh fp32 magnitude accumulator.</summary>
    public static Dictionary<string, Projection> InstallAccumulators(T5ForConditionalGeneration model)
    {
        var result = new Dictionary<string, Projection>(StringComparer.Ordinal);
        foreach (var (name, module) in model.named_modules())
        {
            if (module is Projection p)
            {
                p.MagnitudeAccumulator = zeros(p.OutFeatures, ScalarType.Float32);
                result[name] = p;
            }
        }

        return result;
    }

    private Tensor Longs(string key) => tensor(Doubles(key).Select(v => (long)v).ToArray());
}
