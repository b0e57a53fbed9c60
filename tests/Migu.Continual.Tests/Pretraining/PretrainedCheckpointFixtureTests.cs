using System.Text.Json;
using System.Text.Json.Nodes;
using Migu.Continual.Pretraining;
using Migu.Continual.Recipes;
using Migu.Models;
using Migu.Models.Roberta;
using Migu.Models.T5;
using Migu.Models.Tokenizers;
using static TorchSharp.torch;

namespace Migu.Continual.Tests.Pretraining;

/// <summary>
/// Checkpoints made by the pre-training pipeline (what <c>migu pretrain</c> exports), committed under
/// Fixtures/pretrained/FAMILY with the ids and logits our code computes (reference.json), for
/// <c>tools/check_pretrained_checkpoint.py</c> to load in transformers and compare. With
/// MIGU_WRITE_FIXTURES=1 the test (re)makes them in the source tree; otherwise it checks that the
/// committed checkpoint still loads and gives the recorded ids and logits, so the Python check stays meaningful.
/// </summary>
public sealed class PretrainedCheckpointFixtureTests
{
    private const string Text = "Migu learns one task after another, and forgets less.";

    public static TheoryData<string, string> Cases => new() { { "roberta", "roberta-tiny" }, { "t5", "t5-tiny" }, { "llama", "llama-tiny" } };

    [Theory]
    [MemberData(nameof(Cases))]
    public void The_committed_checkpoint_reloads_with_the_recorded_ids_and_logits(string family, string preset)
    {
        string directory = RepoFiles.Path("tests", "Migu.Continual.Tests", "Fixtures", "pretrained", family);
        if (Environment.GetEnvironmentVariable("MIGU_WRITE_FIXTURES") == "1")
        {
            Write(preset, directory);
        }

        JsonObject reference = JsonNode.Parse(File.ReadAllText(Path.Combine(directory, "reference.json")))!.AsObject();
        using LanguageModel model = ModelLoader.Load(directory);
        ITextTokenizer tokenizer = TokenizerLoader.Load(directory);
        var (ids, batch) = Inputs(model, tokenizer);
        Assert.Equal(Ints(reference["text_ids"]!), ids);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor logits = model.forward(batch).Logits[0]; // (T, V)
        AssertClose(Doubles(reference["logits_first_16"]!), [.. logits[.., ..16].reshape(-1).data<float>().Select(v => (double)v)]);
        AssertClose(Doubles(reference["logsumexp"]!), [.. logits.logsumexp(-1).data<float>().Select(v => (double)v)]);
    }

    /// <summary>The text as the family frames it, and one batch that exercises its objective's special tokens.</summary>
    private static (int[] Ids, ModelBatch Batch) Inputs(LanguageModel model, ITextTokenizer tokenizer)
    {
        int[] ids = model.Family.Framing(tokenizer).Encode(tokenizer, Text);
        ObjectiveTokens tokens = ObjectiveTokens.Of(tokenizer);
        long[] input = [.. ids.Select(i => (long)i)];
        switch (model.Family.Objective)
        {
            case PretrainObjective.Mlm:
                input[3] = tokens.Mask!.Value;
                return (ids, new ModelBatch { InputIds = Row(input) });
            case PretrainObjective.Span:
                // Tokens 3 and 4 become sentinel 0; the decoder reads the start token, the sentinel and the span.
                long[] encoder = [.. input[..3], tokens.Sentinels[0], .. input[5..]];
                long[] decoder = [tokens.Pad, tokens.Sentinels[0], input[3], input[4]];
                return (ids, new ModelBatch { InputIds = Row(encoder), DecoderInputIds = Row(decoder) });
            default:
                return (ids, new ModelBatch { InputIds = Row(input) });
        }
    }

    private static void Write(string preset, string directory)
    {
        string work = Directory.CreateTempSubdirectory("migu-fixture").FullName;
        try
        {
            string corpus = Path.Combine(work, "sample.txt");
            File.WriteAllLines(corpus, Enumerable.Range(0, 40).Select(i => $"Document {i}: {Text} Then it learns task {i + 1}."));
            var recipe = new Recipe
            {
                Model = preset,
                Training = new TrainingSettings { Lr = 3e-3, Batch = 4 },
                Pretrain = new PretrainSettings { SeqLen = 24, Steps = 3, Corpora = [new CorpusSpec { Name = "sample", Path = corpus }] },
                Seed = 3,
            };
            new ContinualPretrainingRunner(recipe, [], Path.Combine(work, "run")).Run();
            string checkpoint = Path.Combine(work, "run", "checkpoints", "task-01-sample");
            Directory.CreateDirectory(directory);
            foreach (string file in new[] { "config.json", "model.safetensors", "tokenizer.json", "tokenizer_config.json" })
            {
                File.Copy(Path.Combine(checkpoint, file), Path.Combine(directory, file), overwrite: true);
            }

            using LanguageModel model = ModelLoader.Load(directory);
            ITextTokenizer tokenizer = TokenizerLoader.Load(directory);
            var (ids, batch) = Inputs(model, tokenizer);
            ObjectiveTokens tokens = ObjectiveTokens.Of(tokenizer);
            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            Tensor logits = model.forward(batch).Logits[0];
            var reference = new JsonObject
            {
                ["text"] = Text,
                ["text_ids"] = Array(ids.Select(i => (long)i)),
                ["input_ids"] = Array(batch.InputIds[0].data<long>().ToArray()),
                ["decoder_input_ids"] = batch.DecoderInputIds is null ? null : Array(batch.DecoderInputIds[0].data<long>().ToArray()),
                ["mask_id"] = tokens.Mask,
                ["sentinel_0_id"] = tokens.Sentinels.Count > 0 ? tokens.Sentinels[0] : null,
                ["logits_first_16"] = Array(logits[.., ..16].reshape(-1).data<float>().Select(v => (double)v)),
                ["logsumexp"] = Array(logits.logsumexp(-1).data<float>().Select(v => (double)v)),
            };
            File.WriteAllText(Path.Combine(directory, "reference.json"), reference.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n");
        }
        finally
        {
            Directory.Delete(work, recursive: true);
        }
    }

    private static Tensor Row(long[] ids) => tensor(ids, [1, ids.Length]);

    private static JsonArray Array<T>(IEnumerable<T> values) => [.. values.Select(v => JsonValue.Create(v))];

    private static int[] Ints(JsonNode node) => [.. node.AsArray().Select(n => n!.GetValue<int>())];

    private static double[] Doubles(JsonNode node) => [.. node.AsArray().Select(n => n!.GetValue<double>())];

    private static void AssertClose(double[] expected, double[] actual)
    {
        Assert.Equal(expected.Length, actual.Length);
        for (int i = 0; i < expected.Length; i++)
        {
            Assert.True(Math.Abs(expected[i] - actual[i]) <= 1e-4 * (1 + Math.Abs(expected[i])), $"value {i}: {actual[i]} instead of {expected[i]}");
        }
    }
}
