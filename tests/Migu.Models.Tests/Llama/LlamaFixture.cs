using System.Text.Json;
using static TorchSharp.torch;

namespace Migu.Models.Tests.Llama;

/// <summary>
/// Fixtures/llama/, written by tools/parity_llama.py with transformers 5.17 on CPU in fp32:
/// two saved tiny models ("gqa", "tied_llama3"), llama_fixtures.json with their logits, loss,
/// gradients, magnitudes and greedy generations, and llama_presets.json with the full-size
/// presets' parameter shapes.
/// </summary>
internal static class LlamaFixture
{
    public const double Atol = 1e-5;
    public const double Rtol = 1e-4;

    public static readonly string Directory = Path.Combine(AppContext.BaseDirectory, "Fixtures", "llama");

    private static readonly Lazy<JsonElement> Fixtures = new(() => Parse("llama_fixtures.json"));
    private static readonly Lazy<JsonElement> Presets = new(() => Parse("llama_presets.json"));

    public static JsonElement Of(string variant) => Fixtures.Value.GetProperty(variant);

    public static JsonElement Preset(string name) => Presets.Value.GetProperty(name);

    public static string ModelDirectory(string variant) => Path.Combine(Directory, $"llama_{variant}");

    public static Tensor Ids(JsonElement rows) => tensor(Longs(rows), ScalarType.Int64).reshape(rows.GetArrayLength(), -1);

    public static long[] Longs(JsonElement rows) =>
        [.. rows.EnumerateArray().SelectMany(r => r.ValueKind == JsonValueKind.Array ? r.EnumerateArray() : new[] { r }.AsEnumerable()).Select(e => e.GetInt64())];

    public static double[] Doubles(JsonElement array) => [.. array.EnumerateArray().Select(e => e.GetDouble())];

    public static double[] Values(Tensor t)
    {
        using Tensor flat = t.detach().to(ScalarType.Float64).cpu().reshape(-1);
        return flat.data<double>().ToArray();
    }

    /// <summary>Fails with the first index where |a − e| > atol + rtol·|e|.</summary>
    public static void AssertClose(double[] expected, double[] actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} values, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            double tolerance = Atol + (Rtol * Math.Abs(expected[i]));
            Assert.True(Math.Abs(actual[i] - expected[i]) <= tolerance, $"{what}[{i}]: {actual[i]} vs transformers {expected[i]}");
        }
    }

    private static JsonElement Parse(string file) =>
        JsonDocument.Parse(File.ReadAllText(Path.Combine(Directory, file))).RootElement;
}
