using System.Text.Json;
using Migu.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Tests.Roberta;

/// <summary>
/// Fixtures/roberta, written by tools/parity_roberta.py with transformers 5.17 on the CPU: two
/// tiny random checkpoints (mlm/, classifier/), what transformers computed on a padded batch
/// (roberta_parity.json) and roberta-base's parameter shapes (roberta_base_shapes.json).
/// </summary>
internal static class RobertaFixtures
{
    public const double Atol = 1e-5;
    public const double Rtol = 1e-4;

    public static string Directory { get; } = Path.Combine(AppContext.BaseDirectory, "Fixtures", "roberta");

    public static string MaskedLmDirectory { get; } = Path.Combine(Directory, "mlm");

    public static string ClassifierDirectory { get; } = Path.Combine(Directory, "classifier");

    public static JsonElement Parity { get; } = Read("roberta_parity.json");

    public static JsonElement BaseShapes { get; } = Read("roberta_base_shapes.json");

    /// <summary>The fixture batch (input ids, attention mask, labels) of <paramref name="record"/>.</summary>
    public static ModelBatch Batch(JsonElement record)
    {
        Tensor ids = Ints(record.GetProperty("input_ids"));
        Tensor mask = Ints(record.GetProperty("attention_mask"));
        Tensor labels = Ints(record.GetProperty("labels"));
        return new ModelBatch { InputIds = ids, AttentionMask = mask, Labels = labels };
    }

    /// <summary>Gives every projection of <paramref name="model"/> a zero magnitude accumulator, by module name.</summary>
    public static Dictionary<string, Projection> RecordMagnitudes(nn.Module model)
    {
        var projections = new Dictionary<string, Projection>(StringComparer.Ordinal);
        foreach (var (name, module) in model.named_modules())
        {
            if (module is Projection p)
            {
                p.MagnitudeAccumulator = zeros(p.OutFeatures, ScalarType.Float32);
                projections[name] = p;
            }
        }

        return projections;
    }

    /// <summary>Equal shapes and bit-for-bit equal values.</summary>
    public static bool Same(Tensor a, Tensor b)
    {
        using var scope = NewDisposeScope();
        return a.shape.SequenceEqual(b.shape) && a.eq(b).all().item<bool>();
    }

    public static double[] Doubles(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetDouble())];

    public static float[] Values(Tensor t) => t.detach().cpu().to(ScalarType.Float32).reshape(-1).data<float>().ToArray();

    public static void AssertClose(IReadOnlyList<double> expected, float[] actual, string what)
    {
        Assert.Equal(expected.Count, actual.Length);
        for (int i = 0; i < actual.Length; i++)
        {
            double diff = Math.Abs(expected[i] - actual[i]);
            Assert.True(diff <= Atol + (Rtol * Math.Abs(expected[i])), $"{what}[{i}]: expected {expected[i]}, got {actual[i]} (diff {diff})");
        }
    }

    public static void AssertClose(double expected, double actual, string what)
    {
        double diff = Math.Abs(expected - actual);
        Assert.True(diff <= Atol + (Rtol * Math.Abs(expected)), $"{what}: expected {expected}, got {actual} (diff {diff})");
    }

    private static Tensor Ints(JsonElement rows)
    {
        long[][] values = [.. rows.EnumerateArray().Select(r => r.ValueKind == JsonValueKind.Array
            ? r.EnumerateArray().Select(e => e.GetInt64()).ToArray()
            : [r.GetInt64()])];
        long[] flat = [.. values.SelectMany(v => v)];
        Tensor t = tensor(flat, ScalarType.Int64);
        return rows[0].ValueKind == JsonValueKind.Array ? t.reshape(values.Length, values[0].Length) : t;
    }

    private static JsonElement Read(string file) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory, file))).RootElement.Clone();
}
