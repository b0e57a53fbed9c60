using Migu.Models.Checkpoints;
using Migu.Models.Roberta;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Tests.Roberta;

/// <summary>Loading transformers' checkpoints, saving ours in the same layout, and refusing ones that do not fit.</summary>
public sealed class RobertaCheckpointTests : IDisposable
{
    private readonly string temp = Path.Combine(Path.GetTempPath(), "migu-roberta-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (Directory.Exists(temp))
        {
            Directory.Delete(temp, recursive: true);
        }
    }

    [Fact]
    public void Config_written_by_transformers_reads_as_the_tiny_preset()
    {
        RobertaConfig mlm = RobertaConfig.FromConfig(ConfigReader.FromFile(Path.Combine(RobertaFixtures.MaskedLmDirectory, "config.json")));
        Assert.Equal(RobertaPresets.Tiny with { Id2Label = mlm.Id2Label, NumLabels = mlm.NumLabels }, mlm);

        RobertaConfig cls = RobertaConfig.FromConfig(ConfigReader.FromFile(Path.Combine(RobertaFixtures.ClassifierDirectory, "config.json")));
        Assert.Equal(RobertaForSequenceClassification.ArchitectureName, cls.Architecture);
        Assert.Equal(3, cls.NumLabels);
        Assert.Equal(["negative", "neutral", "positive"], cls.Id2Label!);
    }

    [Fact]
    public void Config_json_round_trips_through_FromConfig()
    {
        RobertaConfig config = RobertaPresets.Tiny with { NumLabels = 2, Id2Label = ["no", "yes"], ClassifierDropout = 0.25, Architecture = RobertaForSequenceClassification.ArchitectureName };
        RobertaConfig back = RobertaConfig.FromConfig(ConfigReader.FromText(config.ToJson(), "test"));

        Assert.Equal(config with { Id2Label = null }, back with { Id2Label = null });
        Assert.Equal(config.Id2Label, back.Id2Label!);
        Assert.Contains("\"model_type\": \"roberta\"", config.ToJson(), StringComparison.Ordinal);
    }

    [Fact]
    public void Masked_lm_save_writes_transformers_keys_and_loads_back_identically()
    {
        using var model = RobertaForMaskedLM.FromPretrained(RobertaFixtures.MaskedLmDirectory);
        ModelCheckpoint.Save(model, temp);

        AssertSavedKeys(RobertaFixtures.Parity.GetProperty("mlm"), temp);
        using var again = RobertaForMaskedLM.FromPretrained(temp);
        AssertSameWeightsAndLogits(model, again);
        Assert.Equal(RobertaForMaskedLM.ArchitectureName, again.Config.Architecture);
    }

    [Fact]
    public void Classifier_save_writes_transformers_keys_and_loads_back_identically()
    {
        using var model = RobertaForSequenceClassification.FromPretrained(RobertaFixtures.ClassifierDirectory);
        ModelCheckpoint.Save(model, temp);

        AssertSavedKeys(RobertaFixtures.Parity.GetProperty("classifier"), temp);
        using var again = RobertaForSequenceClassification.FromPretrained(temp);
        AssertSameWeightsAndLogits(model, again);
        Assert.Equal(model.Config.Id2Label, again.Config.Id2Label!);
    }

    [Fact]
    public void Older_checkpoints_with_decoder_copies_pooler_and_position_ids_load()
    {
        Dictionary<string, Tensor> state = StateDictFiles.Load(RobertaFixtures.MaskedLmDirectory);
        state["lm_head.decoder.weight"] = state["roberta.embeddings.word_embeddings.weight"].clone();
        state["lm_head.decoder.bias"] = state["lm_head.bias"].clone();
        state["roberta.pooler.dense.weight"] = zeros(32, 32);
        state["roberta.pooler.dense.bias"] = zeros(32);
        state["roberta.embeddings.position_ids"] = arange(40L).unsqueeze(0);
        WriteCheckpoint(state, RobertaFixtures.MaskedLmDirectory);

        using var reference = RobertaForMaskedLM.FromPretrained(RobertaFixtures.MaskedLmDirectory);
        using var model = RobertaForMaskedLM.FromPretrained(temp);
        AssertSameWeightsAndLogits(reference, model);
    }

    [Fact]
    public void A_missing_key_is_refused_naming_the_key()
    {
        Dictionary<string, Tensor> state = StateDictFiles.Load(RobertaFixtures.MaskedLmDirectory);
        state.Remove("roberta.encoder.layer.1.intermediate.dense.weight");
        WriteCheckpoint(state, RobertaFixtures.MaskedLmDirectory);

        var e = Assert.Throws<CheckpointException>(() => RobertaForMaskedLM.FromPretrained(temp));
        Assert.Contains("roberta.encoder.layer.1.intermediate.dense.weight", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_masked_lm_checkpoint_is_not_a_classifier()
    {
        var e = Assert.Throws<CheckpointException>(() => RobertaForSequenceClassification.FromPretrained(RobertaFixtures.MaskedLmDirectory));
        Assert.Contains("classifier.", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Classifier_from_a_masked_lm_encoder_keeps_the_encoder_and_takes_the_labels()
    {
        using var mlm = RobertaForMaskedLM.FromPretrained(RobertaFixtures.MaskedLmDirectory);
        using var cls = RobertaForSequenceClassification.FromEncoder(RobertaFixtures.MaskedLmDirectory, ["a", "b", "c", "d"]);

        var encoder = mlm.named_parameters().Where(p => p.name.StartsWith("roberta.", StringComparison.Ordinal)).ToList();
        var loaded = cls.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        Assert.NotEmpty(encoder);
        Assert.All(encoder, p => Assert.True(RobertaFixtures.Same(p.parameter, loaded[p.name]), p.name));
        Assert.Equal([4L, 32L], loaded["classifier.out_proj.weight"].shape);
        Assert.Equal(4, cls.Config.NumLabels);
        Assert.Equal("d", cls.Config.LabelName(3));
    }

    [Fact]
    public void Unknown_model_type_is_refused()
    {
        var e = Assert.Throws<CheckpointException>(() => RobertaConfig.FromConfig(ConfigReader.FromText("{\"model_type\": \"t5\"}", "cfg.json")));
        Assert.Contains("cfg.json", e.Message, StringComparison.Ordinal);
        Assert.Contains("roberta", e.Message, StringComparison.Ordinal);
    }

    private static void AssertSavedKeys(System.Text.Json.JsonElement record, string directory)
    {
        Dictionary<string, Tensor> saved = StateDictFiles.Load(directory);
        try
        {
            var expected = record.GetProperty("saved_keys").EnumerateObject().Select(p => p.Name).Order();
            Assert.Equal(expected, saved.Keys.Order());
        }
        finally
        {
            foreach (Tensor t in saved.Values)
            {
                t.Dispose();
            }
        }
    }

    private static void AssertSameWeightsAndLogits(LanguageModel expected, LanguageModel actual)
    {
        var theirs = actual.named_parameters().ToDictionary(p => p.name, p => p.parameter, StringComparer.Ordinal);
        foreach (var (name, p) in expected.named_parameters())
        {
            Assert.True(RobertaFixtures.Same(p, theirs[name]), $"{name} differs after the round trip");
        }

        expected.eval();
        actual.eval();
        using var scope = NewDisposeScope();
        ModelBatch batch = RobertaFixtures.Batch(RobertaFixtures.Parity.GetProperty("mlm")) is var b
            ? new ModelBatch { InputIds = b.InputIds, AttentionMask = b.AttentionMask }
            : throw new InvalidOperationException();
        Assert.True(RobertaFixtures.Same(expected.call(batch).Logits, actual.call(batch).Logits));
    }

    private void WriteCheckpoint(Dictionary<string, Tensor> state, string configFrom)
    {
        StateDictFiles.Save(temp, state);
        File.Copy(Path.Combine(configFrom, "config.json"), Path.Combine(temp, "config.json"));
        foreach (Tensor t in state.Values)
        {
            t.Dispose();
        }
    }
}
