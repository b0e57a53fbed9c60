using System.Text.Json;
using static TorchSharp.torch;

namespace Migu.Models.Tests.Adapters;

/// <summary>
/// Fixtures/peft/: folders written by tools/peft_lora_fixture.py with PEFT (adapter_config.json,
/// adapter_model.safetensors, expected.json with the input, PEFT's logits and its merged logits) and
/// folders our own code wrote for that script's --check mode (csharp.json, same schema). Each names
/// its base model as a path under Fixtures/ (e.g. <c>llama/llama_gqa</c>).
/// </summary>
internal sealed class PeftFixture
{
    public const double Atol = 1e-5;
    public const double Rtol = 1e-4;

    private PeftFixture(string directory, string recordFile)
    {
        Directory = directory;
        Json = JsonDocument.Parse(File.ReadAllText(Path.Combine(directory, recordFile))).RootElement;
        BaseModel = Json.GetProperty("base_model").GetString()!;
    }

    public static string FixturesRoot => Path.Combine(AppContext.BaseDirectory, "Fixtures");

    public static string Root => Path.Combine(FixturesRoot, "peft");

    public string Directory { get; }

    public JsonElement Json { get; }

    /// <summary>The base model's folder, relative to Fixtures/.</summary>
    public string BaseModel { get; }

    public string BaseModelDirectory => Path.Combine(FixturesRoot, BaseModel);

    /// <summary>A PEFT-written case (expected.json).</summary>
    public static PeftFixture Peft(string name) => new(Path.Combine(Root, name), "expected.json");

    /// <summary>A case our code wrote for the Python check (csharp.json), in <paramref name="directory"/>.</summary>
    public static PeftFixture CSharp(string directory) => new(directory, "csharp.json");

    public static bool Exists(string name, string recordFile) => File.Exists(Path.Combine(Root, name, recordFile));

    public LanguageModel LoadBase() => ModelLoader.Load(BaseModelDirectory);

    public ModelBatch Batch() => new()
    {
        InputIds = Ids("input_ids"),
        AttentionMask = Ids("attention_mask"),
        DecoderInputIds = Json.TryGetProperty("decoder_input_ids", out _) ? Ids("decoder_input_ids") : null,
    };

    public long[] LogitsShape => Json.GetProperty("logits_shape").EnumerateArray().Select(e => e.GetInt64()).ToArray();

    public double[] Doubles(string key) => Json.GetProperty(key).EnumerateArray().Select(e => e.GetDouble()).ToArray();

    public static double[] Values(Tensor t)
    {
        using Tensor flat = t.detach().cpu().to(ScalarType.Float64).reshape(-1);
        return flat.data<double>().ToArray();
    }

    public static void AssertClose(double[] expected, double[] actual, string what)
    {
        Assert.True(expected.Length == actual.Length, $"{what}: {actual.Length} values, expected {expected.Length}");
        for (int i = 0; i < expected.Length; i++)
        {
            double tolerance = Atol + (Rtol * Math.Abs(expected[i]));
            Assert.True(Math.Abs(actual[i] - expected[i]) <= tolerance, $"{what}[{i}]: {actual[i]:R} vs PEFT {expected[i]:R}");
        }
    }

    private Tensor Ids(string key)
    {
        JsonElement rows = Json.GetProperty(key);
        long[] values = rows.EnumerateArray().SelectMany(r => r.EnumerateArray()).Select(e => e.GetInt64()).ToArray();
        return tensor(values, ScalarType.Int64).reshape(rows.GetArrayLength(), -1);
    }
}

/// <summary>
/// A test that reads a PEFT-written fixture folder; skipped, with the command that makes it, until
/// tools/peft_lora_fixture.py has been run and its output committed.
/// </summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class PeftFixtureFactAttribute : FactAttribute
{
    public PeftFixtureFactAttribute(string name)
    {
        Name = name;
        if (!PeftFixture.Exists(name, "expected.json"))
        {
            Skip = $"Fixtures/peft/{name} is not there yet: run python3 tools/peft_lora_fixture.py tests/Migu.Models.Tests/Fixtures/peft on a machine with PEFT";
        }
    }

    public string Name { get; }
}
