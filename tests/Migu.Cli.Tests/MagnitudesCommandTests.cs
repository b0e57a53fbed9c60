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
        { "bert/mlm", "bert/bert_parity.json", "mlm", "input_ids,attention_mask" },
        { "bert/classifier", "bert/bert_parity.json", "classifier", "input_ids,attention_mask" },
        { "bert/classifier_mean", "bert/bert_parity.json", "classifier_mean", "input_ids,attention_mask" },
    };

    [Theory]
    [MemberData(nameof(Checkpoints))]
    public void Magnitudes_of_a_real_checkpoint_match_transformers_and_masks_follow_the_paper_rule(string model, string goldenFile, string section, string batchKeys)
    {
        string fixtures = RepoFiles.Path("tests", "Migu.Models.Tests", "Fixtures");
        JsonNode root = JsonNode.Parse(File.ReadAllText(Path.Combine(fixtures, goldenFile)))!;
        JsonNode golden = root;
        foreach (string part in section.Split('/', StringSplitOptions.RemoveEmptyEntries))
        {
            golden = golden[part]!;
        }

        var batch = new JsonObject();
        foreach (string key in batchKeys.Split(','))
        {
            // The BERT fixture keeps one batch for all heads, beside their sections.
            batch[key] = AsRows((golden[key] ?? root[key])!.AsArray(), golden["batch"]?.GetValue<int>());
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

    /// <summary>
    /// transformers' nn.Linear modules of each BERT class (modeling_bert: BertSelfAttention's query,
    /// key, value; BertSelfOutput's and BertOutput's dense; BertIntermediate's dense; BertPooler's
    /// dense; BertPredictionHeadTransform's dense and BertLMPredictionHead's decoder; the sequence
    /// classifier), written down here for the two-block fixtures. BertForMaskedLM builds its
    /// BertModel without the pooler; the mean-pooling classifier (ours) has none either.
    /// </summary>
    public static TheoryData<string, string[]> BertLinearModules => new()
    {
        { "bert/encoder", [.. BertBlocks(""), "pooler.dense"] },
        { "bert/mlm", [.. BertBlocks("bert."), "cls.predictions.transform.dense", "cls.predictions.decoder"] },
        { "bert/classifier", [.. BertBlocks("bert."), "bert.pooler.dense", "classifier"] },
        { "bert/classifier_mean", [.. BertBlocks("bert."), "classifier"] },
    };

    [Theory]
    [MemberData(nameof(BertLinearModules))]
    public void Every_linear_module_transformers_has_in_a_bert_class_is_listed_and_no_other(string model, string[] expected)
    {
        string input = Path.Combine(dir, "bert-batch.json");
        File.WriteAllText(input, """{"input_ids": [[2, 45, 12, 77, 3], [2, 31, 3, 0, 0]], "attention_mask": [[1, 1, 1, 1, 1], [1, 1, 1, 0, 0]]}""");
        string output = Path.Combine(dir, "bert-out.json");
        string checkpoint = RepoFiles.Path("tests", "Migu.Models.Tests", "Fixtures", model);

        var (code, _, stderr) = MiguProcess.Run("magnitudes", "--model", checkpoint, "--input", input, "--out", output);

        Assert.True(code == 0, stderr);
        JsonObject layers = JsonNode.Parse(File.ReadAllText(output))!["layers"]!.AsObject();
        Assert.Equal(expected.Order(StringComparer.Ordinal), layers.Select(kv => kv.Key).Order(StringComparer.Ordinal));
    }

    /// <summary>A BertLayer's nn.Linear modules: BertSelfAttention, BertSelfOutput, BertIntermediate, BertOutput.</summary>
    private static readonly string[] BertLayerLinears =
        ["attention.self.query", "attention.self.key", "attention.self.value", "attention.output.dense", "intermediate.dense", "output.dense"];

    private static IEnumerable<string> BertBlocks(string prefix) =>
        Enumerable.Range(0, 2).SelectMany(i => BertLayerLinears.Select(m => $"{prefix}encoder.layer.{i}.{m}"));

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
