using System.Text.Json;
using System.Text.Json.Nodes;

namespace Migu.Cli.Tests;

/// <summary>
/// `migu magnitudes` on the RoBERTa fixture checkpoint (made by tools/parity_roberta.py with
/// transformers), compared with the magnitudes transformers' forward hooks recorded for the same batch.
/// </summary>
public sealed class MagnitudesCommandTests : IDisposable
{
    private readonly string dir = Directory.CreateTempSubdirectory("migu-mag").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    /// <summary>(model directory, golden JSON, path to the section inside it, the batch keys it holds).</summary>
    public static TheoryData<string, string, string, string> Checkpoints => new()
    {
        { "roberta/mlm", "roberta/roberta_parity.json", "mlm", "input_ids,attention_mask" },
        { "llama/llama_gqa", "llama/llama_fixtures.json", "gqa/forward", "input_ids,attention_mask" },
        { "t5/v10", "t5/v10.json", "", "input_ids,attention_mask,decoder_input_ids,decoder_attention_mask" },
    };

    [Theory]
    [MemberData(nameof(Checkpoints))]
    public void Magnitudes_of_a_real_checkpoint_match_transformers_and_masks_follow_the_paper_rule(string model, string goldenFile, string section, string batchKeys)
    {
        string fixtures = RepoFiles.Path("tests", "Migu.Models.Tests", "Fixtures");
        JsonNode golden = JsonNode.Parse(File.ReadAllText(Path.Combine(fixtures, goldenFile)))!;
        foreach (string part in section.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            golden = golden[part]!;
        }

        var batch = new JsonObject();
        foreach (string key in batchKeys.Split(','))
        {
            batch[key] = AsRows(golden[key]!.AsArray(), golden["batch"]?.GetValue<int>());
        }

        string input = Path.Combine(dir, "batch.json");
        File.WriteAllText(input, batch.ToJsonString());
        string output = Path.Combine(dir, "out", "magnitudes.json");

        var (code, stdout, stderr) = MiguProcess.Run("magnitudes", "--model", Path.Combine(fixtures, model), "--input", input, "--threshold", "0.7", "--out", output);

        Assert.True(code == 0, stderr);
        Assert.Contains("wrote", stdout, StringComparison.Ordinal);
        JsonNode report = JsonNode.Parse(File.ReadAllText(output))!;
        Assert.Equal(0.7, report["threshold"]!.GetValue<double>());
        JsonObject layers = report["layers"]!.AsObject();
        JsonObject expected = golden["magnitudes"]!.AsObject();
        // Every nn.Linear transformers has, RoBERTa's tied lm_head.decoder included, and no other layer.
        Assert.Equal(expected.Select(kv => kv.Key).Order(), layers.Select(kv => kv.Key).Order());
        foreach (var (name, values) in expected)
        {
            Assert.True(layers.ContainsKey(name), $"missing layer {name}");
            double[] ours = layers[name]!["magnitude"]!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
            double[] theirs = values!.AsArray().Select(v => v!.GetValue<double>()).ToArray();
            Assert.Equal(theirs.Length, ours.Length);
            double floor = 1e-5 * theirs.Max(Math.Abs);
            for (int i = 0; i < ours.Length; i++)
            {
                Assert.True(Math.Abs(ours[i] - theirs[i]) <= 1e-5 + floor + (1e-4 * Math.Abs(theirs[i])), $"{name}[{i}]: {ours[i]} vs {theirs[i]}");
            }

            int[] mask = layers[name]!["mask"]!.AsArray().Select(v => v!.GetValue<int>()).ToArray();
            Assert.Equal(ours.Length - (int)Math.Floor(0.7 * ours.Length), mask.Sum());
            double smallestKept = ours.Where((_, i) => mask[i] == 1).Min();
            Assert.All(ours.Where((_, i) => mask[i] == 0), v => Assert.True(v <= smallestKept));
        }

    }

    /// <summary>Rows of integers; the T5 fixture stores flat float lists with the batch size beside them.</summary>
    private static JsonArray AsRows(JsonArray values, int? batch)
    {
        if (values[0] is JsonArray)
        {
            return (JsonArray)values.DeepClone();
        }

        int width = values.Count / batch!.Value;
        return new JsonArray(Enumerable.Range(0, batch.Value)
            .Select(r => (JsonNode)new JsonArray(values.Skip(r * width).Take(width).Select(v => (JsonNode)JsonValue.Create((long)v!.GetValue<double>())).ToArray()))
            .ToArray());
    }

    [Fact]
    public void Ragged_input_is_refused_naming_the_key()
    {
        string input = Path.Combine(dir, "ragged.json");
        File.WriteAllText(input, """{"input_ids": [[0, 5, 2], [0, 2]]}""");
        string fixtures = RepoFiles.Path("tests", "Migu.Models.Tests", "Fixtures", "roberta", "mlm");

        var (code, _, stderr) = MiguProcess.Run("magnitudes", "--model", fixtures, "--input", input, "--out", Path.Combine(dir, "o.json"));

        Assert.Equal(2, code);
        Assert.Contains("'input_ids' rows differ in length", stderr, StringComparison.Ordinal);
    }

    [Fact]
    public void An_unknown_model_lists_the_presets()
    {
        string input = Path.Combine(dir, "b.json");
        File.WriteAllText(input, """{"input_ids": [[0, 2]]}""");
        var (code, _, stderr) = MiguProcess.Run("magnitudes", "--model", "gpt-17", "--input", input, "--out", Path.Combine(dir, "o.json"));
        Assert.Equal(2, code);
        Assert.Contains("'gpt-17' is neither a checkpoint directory nor a preset (presets: ", stderr, StringComparison.Ordinal);
        Assert.Contains("roberta-tiny", stderr, StringComparison.Ordinal);
    }
}
