using Migu.Models.Bert;
using Migu.Models.Checkpoints;
using Migu.Models.Tests.Roberta;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Tests.Bert;

/// <summary>BERT checkpoints in and out: config round trip, save/load, class choice, keys refused by name, a classifier from any encoder.</summary>
public sealed class BertCheckpointTests : IDisposable
{
    private readonly string temp = Directory.CreateTempSubdirectory("migu-bert-").FullName;

    public void Dispose() => Directory.Delete(temp, recursive: true);

    [Fact]
    public void Config_round_trips_through_its_json_including_labels_and_mean_pooling()
    {
        var config = BertPresets.Tiny with
        {
            NumLabels = 2, Id2Label = ["a", "b"], ClassifierPooling = ClassifierPooling.Mean, ClassifierDropout = 0.25,
            Architecture = BertForSequenceClassification.ArchitectureName,
        };
        BertConfig again = BertConfig.FromConfig(ConfigReader.FromText(config.ToJson(), "test"));
        Assert.Equal(config with { Id2Label = null }, again with { Id2Label = null });
        Assert.Equal(["a", "b"], again.Id2Label!);
    }

    [Fact]
    public void Config_refuses_another_activation_position_type_and_pooling_naming_the_key()
    {
        string Refusal(string json) => Assert.Throws<CheckpointException>(() => BertConfig.FromConfig(ConfigReader.FromText(json, "c.json"))).Message;
        Assert.Contains("hidden_act 'relu'", Refusal("""{"model_type": "bert", "hidden_act": "relu"}"""));
        Assert.Contains("position_embedding_type 'relative_key'", Refusal("""{"model_type": "bert", "position_embedding_type": "relative_key"}"""));
        Assert.Contains("classifier_pooling 'max'", Refusal("""{"model_type": "bert", "classifier_pooling": "max"}"""));
        Assert.Contains("hidden_size 30 is not a multiple of num_attention_heads 4", Refusal("""{"model_type": "bert", "hidden_size": 30, "num_attention_heads": 4}"""));
    }

    [Theory]
    [InlineData("encoder", typeof(BertModel))]
    [InlineData("classifier", typeof(BertForSequenceClassification))]
    [InlineData("classifier_mean", typeof(BertForSequenceClassification))]
    [InlineData("mlm", typeof(BertForMaskedLM))]
    public void Model_loader_picks_the_class_and_a_saved_model_reloads_to_the_same_outputs(string fixture, Type expected)
    {
        using LanguageModel model = ModelLoader.Load(Path.Combine(BertParityTests.Root, fixture));
        Assert.IsType(expected, model);
        Assert.Same(BertFamily.Instance, model.Family);
        string saved = Path.Combine(temp, fixture);
        ModelCheckpoint.Save(model, saved);
        using LanguageModel again = ModelLoader.Load(saved);
        Assert.IsType(expected, again);

        using var scope = NewDisposeScope();
        var batch = new ModelBatch { InputIds = BertParityTests.Ints("input_ids"), AttentionMask = BertParityTests.Ints("attention_mask") };
        Assert.True(RobertaFixtures.Same(model.call(batch).Logits, again.call(batch).Logits));
        Assert.Equal(
            StateDictFiles.Load(Path.Combine(BertParityTests.Root, fixture)).Keys.Where(k => k != "cls.predictions.decoder.bias").Order(),
            StateDictFiles.Load(saved).Keys.Order());
    }

    [Fact]
    public void A_missing_or_unexpected_key_is_refused_by_name()
    {
        Dictionary<string, Tensor> state = StateDictFiles.Load(Path.Combine(BertParityTests.Root, "classifier"));
        string missing = Path.Combine(temp, "missing");
        CopyConfig("classifier", missing);
        StateDictFiles.Save(missing, state.Where(kv => kv.Key != "bert.encoder.layer.1.attention.self.key.bias").ToDictionary());
        Assert.Contains("missing key 'bert.encoder.layer.1.attention.self.key.bias'",
            Assert.Throws<CheckpointException>(() => ModelLoader.Load(missing)).Message);

        string unexpected = Path.Combine(temp, "unexpected");
        CopyConfig("classifier", unexpected);
        StateDictFiles.Save(unexpected, new Dictionary<string, Tensor>(state) { ["bert.embeddings.extra.bias"] = zeros(4) });
        Assert.Contains("unexpected key 'bert.embeddings.extra.bias'",
            Assert.Throws<CheckpointException>(() => ModelLoader.Load(unexpected)).Message);

        // A block the config does not count is named by the layer check, before the model is built.
        string extraBlock = Path.Combine(temp, "extra-block");
        CopyConfig("classifier", extraBlock);
        StateDictFiles.Save(extraBlock, new Dictionary<string, Tensor>(state) { ["bert.encoder.layer.9.output.dense.bias"] = zeros(4) });
        Assert.EndsWith("'num_hidden_layers' is 2 but " + Path.Combine(extraBlock, "model.safetensors") + " has 3, numbered 0 to 9 under 'bert.encoder.layer.'",
            Assert.Throws<CheckpointException>(() => ModelLoader.Load(extraBlock)).Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_classifier_from_a_bare_encoder_or_a_masked_lm_gets_the_encoder_weights_and_a_fresh_head()
    {
        using var scope = NewDisposeScope();
        var batch = new ModelBatch { InputIds = BertParityTests.Ints("input_ids"), AttentionMask = BertParityTests.Ints("attention_mask") };
        using var encoder = BertModel.FromPretrained(Path.Combine(BertParityTests.Root, "encoder"));
        using var fromEncoder = BertForSequenceClassification.FromEncoder(Path.Combine(BertParityTests.Root, "encoder"), ["x", "y"], ClassifierPooling.Mean);
        fromEncoder.eval();
        Assert.True(RobertaFixtures.Same(encoder.call(batch).Logits, fromEncoder.Bert.call(batch).Logits));
        Assert.False(fromEncoder.Bert.HasPooler);
        Assert.Equal(["x", "y"], fromEncoder.Config.Id2Label!);

        // A pooling classifier from a masked LM (no pooler stored): the pooler is built fresh.
        using var mlm = BertForMaskedLM.FromPretrained(Path.Combine(BertParityTests.Root, "mlm"));
        using var fromMlm = BertForSequenceClassification.FromEncoder(Path.Combine(BertParityTests.Root, "mlm"), ["x", "y", "z"]);
        Assert.True(fromMlm.Bert.HasPooler);
        var mlmWeights = mlm.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in fromMlm.Bert.named_parameters().Where(p => !p.name.StartsWith("pooler.", StringComparison.Ordinal)))
        {
            Assert.True(RobertaFixtures.Same(mlmWeights["bert." + name], p), name);
        }
    }

    [Theory]
    [InlineData("encoder", "vocab_size", 1L << 40, "'vocab_size' is 1099511627776, more than 16777216")]
    [InlineData("mlm", "num_hidden_layers", 1L << 40, "'num_hidden_layers' is 1099511627776, more than 1024")]
    [InlineData("encoder", "hidden_size", 36, "'hidden_size' is 36 but ")]
    [InlineData("mlm", "max_position_embeddings", 1000, "'max_position_embeddings' is 1000 but ")]
    public void A_classifier_from_an_encoder_is_refused_by_key_before_the_model_is_allocated(string fixture, string key, long value, string expected)
    {
        // 2^40 vocabulary rows reached libtorch's allocator; a wrong width reached the binder only after the model was built.
        string model = Path.Combine(temp, fixture);
        Directory.CreateDirectory(model);
        File.Copy(Path.Combine(BertParityTests.Root, fixture, "model.safetensors"), Path.Combine(model, "model.safetensors"));
        var config = System.Text.Json.Nodes.JsonNode.Parse(File.ReadAllText(Path.Combine(BertParityTests.Root, fixture, "config.json")))!.AsObject();
        config[key] = value;
        File.WriteAllText(Path.Combine(model, "config.json"), config.ToJsonString());

        var e = Assert.Throws<CheckpointException>(() => BertForSequenceClassification.FromEncoder(model, ["x", "y"]));

        Assert.StartsWith(Path.Combine(model, "config.json") + ": ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("mlm", ClassifierPooling.Pooler)]
    [InlineData("encoder", ClassifierPooling.Mean)]
    public void The_checks_before_building_a_classifier_leave_the_random_generator_where_it_was(string fixture, ClassifierPooling pooling)
    {
        // The new head (and a pooler the checkpoint lacks) must get the weights a plain construction after the same seed gets.
        string directory = Path.Combine(BertParityTests.Root, fixture);
        torch.manual_seed(11);
        using var loaded = BertForSequenceClassification.FromEncoder(directory, ["x", "y"], pooling);
        BertConfig config = loaded.Config;
        torch.manual_seed(11);
        using var fresh = new BertForSequenceClassification(config);

        var expected = fresh.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        foreach (var (name, p) in loaded.named_parameters().Where(p => p.name.StartsWith("classifier.", StringComparison.Ordinal) || p.name.StartsWith("bert.pooler.", StringComparison.Ordinal)))
        {
            Assert.True(RobertaFixtures.Same(expected[name], p), name);
        }
    }

    [Fact]
    public void Presets_build_and_a_bare_encoder_refuses_labels()
    {
        using LanguageModel tiny = ModelLoader.Load("bert-tiny");
        Assert.IsType<BertModel>(tiny);
        using var scope = NewDisposeScope();
        var batch = new ModelBatch { InputIds = BertParityTests.Ints("input_ids"), Labels = tensor(new long[] { 0, 1 }) };
        Assert.Contains("no head", Assert.Throws<Migu.Core.MiguUserException>(() => tiny.call(batch)).Message);
        Assert.Contains("minilm-l6", Assert.Throws<Migu.Core.MiguUserException>(() => ModelLoader.Load("no-such-preset")).Message);
    }

    private static void CopyConfig(string fixture, string directory)
    {
        Directory.CreateDirectory(directory);
        File.Copy(Path.Combine(BertParityTests.Root, fixture, "config.json"), Path.Combine(directory, "config.json"));
    }
}
