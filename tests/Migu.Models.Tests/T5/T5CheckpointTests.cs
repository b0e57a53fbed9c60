using System.Text.Json;
using Migu.Core;
using Migu.Models.Checkpoints;
using Migu.Models.T5;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Models.Tests.T5;

/// <summary>Saving and loading in the transformers layout, tied and untied heads.</summary>
public sealed class T5CheckpointTests : IDisposable
{
    private readonly string temp = Path.Combine(Path.GetTempPath(), "migu-t5-" + Guid.NewGuid().ToString("N"));

    public void Dispose()
    {
        if (System.IO.Directory.Exists(temp))
        {
            System.IO.Directory.Delete(temp, recursive: true);
        }
    }

    [Theory]
    [InlineData(true)]
    [InlineData(false)]
    public void Save_then_load_gives_the_same_weights_config_and_logits(bool tied)
    {
        T5Config config = T5Presets.All["t5-tiny"] with { TieWordEmbeddings = tied, FeedForwardProj = tied ? "relu" : "gated-gelu" };
        manual_seed(3);
        using var model = new T5ForConditionalGeneration(config);
        model.eval();
        RandomizeNorms(model);
        model.Save(temp);
        using var loaded = T5ForConditionalGeneration.FromPretrained(temp);

        Assert.Equal(config with { ScaleDecoderOutputs = tied }, loaded.Config);
        var expected = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        var actual = loaded.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.Equal(expected.Keys.Order(), actual.Keys.Order());
        foreach (var (name, p) in expected)
        {
            Assert.True(p.allclose(actual[name], 0, 0), $"{name} differs after the round trip");
        }

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor ids = randint(2, config.VocabSize, [2, 9], dtype: ScalarType.Int64);
        Tensor labels = randint(2, config.VocabSize, [2, 4], dtype: ScalarType.Int64);
        var batch = new ModelBatch { InputIds = ids, Labels = labels };
        Assert.True(model.forward(batch).Logits.allclose(loaded.forward(batch).Logits, 0, 0));
    }

    [Theory]
    [InlineData(true, false)]
    [InlineData(false, true)]
    public void A_tied_head_is_saved_once_as_shared_and_an_untied_one_as_lm_head(bool tied, bool expectHead)
    {
        T5Config config = T5Presets.All["t5-tiny"] with { TieWordEmbeddings = tied };
        using var model = new T5ForConditionalGeneration(config);
        model.Save(temp);
        var state = StateDictFiles.Load(temp);
        try
        {
            Assert.Contains("shared.weight", state.Keys);
            Assert.Equal(expectHead, state.ContainsKey("lm_head.weight"));
            Assert.DoesNotContain("encoder.embed_tokens.weight", state.Keys);
        }
        finally
        {
            foreach (Tensor t in state.Values)
            {
                t.Dispose();
            }
        }
    }

    [Fact]
    public void Saving_a_transformers_checkpoint_writes_the_same_keys_transformers_wrote()
    {
        var fx = T5Fixture.Load("v10");
        using var model = T5ForConditionalGeneration.FromPretrained(fx.Directory);
        model.Save(temp);
        var ours = StateDictFiles.Load(temp);
        var theirs = StateDictFiles.Load(fx.Directory);
        try
        {
            Assert.Equal(theirs.Keys.Order(), ours.Keys.Order());
            foreach (var (key, t) in theirs)
            {
                Assert.True(t.allclose(ours[key], 0, 0), $"{key} differs");
            }
        }
        finally
        {
            foreach (Tensor t in ours.Values.Concat(theirs.Values))
            {
                t.Dispose();
            }
        }
    }

    [Fact]
    public void A_tied_head_is_one_parameter_listed_once()
    {
        using var model = new T5ForConditionalGeneration(T5Presets.All["t5-tiny"]);
        var named = model.named_parameters().ToList();
        Assert.DoesNotContain(named, p => p.name == "lm_head.weight");
        Assert.Equal(named.Count, model.parameters().Count());
        var head = (Projection)model.named_modules().Single(m => m.name == "lm_head").module;
        Assert.Equal(head.Weight.Handle, named.Single(p => p.name == "shared.weight").parameter.Handle);
        Assert.Equal(ProjectionKind.Head, head.Kind);
    }

    [Fact]
    public void Converting_a_tied_model_keeps_one_head_weight()
    {
        var fx = T5Fixture.Load("v10");
        using var model = T5ForConditionalGeneration.FromPretrained(fx.Directory);
        ((nn.Module)model).to(ScalarType.Float64);
        var head = (Projection)model.named_modules().Single(m => m.name == "lm_head").module;
        Parameter shared = model.named_parameters().Single(p => p.name == "shared.weight").parameter;
        Assert.Equal(ScalarType.Float64, shared.dtype);
        Assert.Equal(head.Weight.Handle, shared.Handle);

        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        ModelOutput output = model.forward(new ModelBatch { InputIds = fx.InputIds(), AttentionMask = fx.AttentionMask(), Labels = fx.Labels() });
        Assert.Equal(ScalarType.Float64, output.Logits.dtype);
        T5Fixture.AssertClose(fx.Doubles("logits_no_decoder_mask"), T5Fixture.Values(output.Logits), "fp64 logits");
    }

    [Fact]
    public void Converting_an_untied_model_converts_both_tables()
    {
        using var model = new T5ForConditionalGeneration(T5Presets.All["t5-tiny"] with { TieWordEmbeddings = false });
        ((nn.Module)model).to(ScalarType.Float64);
        var named = model.named_parameters().ToDictionary(p => p.name, p => p.parameter);
        Assert.Equal(ScalarType.Float64, named["shared.weight"].dtype);
        Assert.Equal(ScalarType.Float64, named["lm_head.weight"].dtype);
        Assert.NotEqual(named["shared.weight"].Handle, named["lm_head.weight"].Handle);
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor ids = randint(2, 128, [1, 5], dtype: ScalarType.Int64);
        Assert.Equal(ScalarType.Float64, model.forward(new ModelBatch { InputIds = ids, DecoderInputIds = ids }).Logits.dtype);
    }

    [Theory]
    [InlineData("v10", false)] // a tied config written before transformers 5.17: scaling implied by the tie
    [InlineData("v11", true)] // an untied FLAN-style checkpoint with its own lm_head.weight, not scaled
    public void Legacy_configs_without_scale_decoder_outputs_give_transformers_logits(string name, bool untie)
    {
        var fx = T5Fixture.Load(name);
        var state = StateDictFiles.Load(fx.Directory);
        try
        {
            using var config = JsonDocument.Parse(File.ReadAllText(Path.Combine(fx.Directory, "config.json")));
            var fields = config.RootElement.EnumerateObject()
                .Where(p => p.Name != "scale_decoder_outputs")
                .ToDictionary(p => p.Name, p => p.Name == "tie_word_embeddings" ? JsonSerializer.SerializeToElement(!untie) : p.Value.Clone());
            if (untie)
            {
                state["lm_head.weight"] = state["shared.weight"].clone();
            }

            StateDictFiles.Save(temp, state);
            File.WriteAllText(Path.Combine(temp, "config.json"), JsonSerializer.Serialize(fields));
            using var model = T5ForConditionalGeneration.FromPretrained(temp);
            Assert.Equal(untie, model.named_parameters().Any(p => p.name == "lm_head.weight"));

            using var scope = NewDisposeScope();
            using var noGrad = no_grad();
            ModelOutput output = model.forward(new ModelBatch { InputIds = fx.InputIds(), AttentionMask = fx.AttentionMask(), Labels = fx.Labels() });
            T5Fixture.AssertClose(fx.Doubles("logits_no_decoder_mask"), T5Fixture.Values(output.Logits), $"{name} logits");
        }
        finally
        {
            foreach (Tensor t in state.Values)
            {
                t.Dispose();
            }
        }
    }

    [Fact]
    public void The_unused_cross_attention_bias_of_the_original_checkpoints_is_skipped_but_other_extra_keys_are_refused()
    {
        var fx = T5Fixture.Load("v10");
        var state = StateDictFiles.Load(fx.Directory);
        try
        {
            state["decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight"] = zeros(8, 3);
            StateDictFiles.Save(temp, state);
            File.Copy(Path.Combine(fx.Directory, "config.json"), Path.Combine(temp, "config.json"));
            using (T5ForConditionalGeneration.FromPretrained(temp))
            {
            }

            state["decoder.block.1.layer.1.EncDecAttention.relative_attention_bias.weight"] = zeros(8, 3);
            StateDictFiles.Save(temp, state);
            var e = Assert.Throws<CheckpointException>(() => T5ForConditionalGeneration.FromPretrained(temp));
            Assert.Contains("decoder.block.1.layer.1.EncDecAttention.relative_attention_bias.weight", e.Message, StringComparison.Ordinal);
        }
        finally
        {
            foreach (Tensor t in state.Values)
            {
                t.Dispose();
            }
        }
    }

    [Fact]
    public void A_fresh_model_has_transformers_initial_scales()
    {
        manual_seed(5);
        using var model = new T5ForConditionalGeneration(T5Presets.All["t5-small"] with { VocabSize = 512, NumLayers = 1, NumDecoderLayers = 1 });
        var p = model.named_parameters().ToDictionary(x => x.name, x => x.parameter);
        Assert.Equal(1.0, p["shared.weight"].std().item<float>(), 1);
        Assert.Equal(1.0 / Math.Sqrt(512 * 64), p["encoder.block.0.layer.0.SelfAttention.q.weight"].std().item<float>(), 3);
        Assert.Equal(1.0 / Math.Sqrt(2048), p["decoder.block.0.layer.2.DenseReluDense.wo.weight"].std().item<float>(), 3);
        Assert.True(p["encoder.final_layer_norm.weight"].eq(1).all().item<bool>());
    }

    [Fact]
    public void Loading_a_checkpoint_with_fewer_layers_than_the_config_names_the_missing_key()
    {
        var fx = T5Fixture.Load("v10");
        System.IO.Directory.CreateDirectory(temp);
        File.Copy(Path.Combine(fx.Directory, "model.safetensors"), Path.Combine(temp, "model.safetensors"));
        string config = File.ReadAllText(Path.Combine(fx.Directory, "config.json")).Replace("\"num_layers\": 2", "\"num_layers\": 3", StringComparison.Ordinal);
        File.WriteAllText(Path.Combine(temp, "config.json"), config);
        var e = Assert.Throws<CheckpointException>(() => T5ForConditionalGeneration.FromPretrained(temp));
        Assert.Contains("encoder.block.2.", e.Message, StringComparison.Ordinal);
    }

    private static void RandomizeNorms(T5ForConditionalGeneration model)
    {
        using var noGrad = no_grad();
        foreach (var (name, p) in model.named_parameters())
        {
            if (name.EndsWith("layer_norm.weight", StringComparison.Ordinal))
            {
                p.copy_(rand_like(p).add(0.5));
            }
        }
    }
}
