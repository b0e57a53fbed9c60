using System.Text.Json.Nodes;
using Migu.Models.Checkpoints;
using Migu.Models.Roberta;
using TorchSharp;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Migu.Models.Tests.Checkpoints;

/// <summary>
/// A fixture checkpoint whose config.json names a size it does not have: refused in one line
/// naming the key, before a model of that size is allocated (2^40 rows would ask libtorch for TiBs).
/// </summary>
public sealed class ConfigSizeTests : IDisposable
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Fixtures");
    private readonly string dir = Directory.CreateTempSubdirectory("migu-sizes").FullName;

    public void Dispose() => Directory.Delete(dir, recursive: true);

    public static TheoryData<string, string, long, string> AbsurdSizes => new()
    {
        // Beyond the bounds: refused from the config alone.
        { "t5/v10", "vocab_size", 1L << 40, "'vocab_size' is 1099511627776, more than 16777216" },
        { "t5/v10", "num_layers", 1L << 40, "'num_layers' is 1099511627776, more than 1024" },
        { "t5/v10", "num_decoder_layers", 0, "'num_decoder_layers' must be positive, got 0" },
        { "roberta/mlm", "max_position_embeddings", 1L << 40, "'max_position_embeddings' is 1099511627776, more than 1073741824" },
        { "roberta/mlm", "num_attention_heads", 1L << 20, "'num_attention_heads' is 1048576, more than 65536" },
        { "llama/llama_gqa", "vocab_size", 1L << 40, "'vocab_size' is 1099511627776, more than 16777216" },
        { "llama/llama_gqa", "max_position_embeddings", 1L << 40, "'max_position_embeddings' is 1099511627776" },
        { "llama/llama_gqa", "num_hidden_layers", 1L << 40, "'num_hidden_layers' is 1099511627776, more than 1024" },
        { "bert/mlm", "vocab_size", 1L << 40, "'vocab_size' is 1099511627776, more than 16777216" },
        { "bert/encoder", "intermediate_size", 1L << 40, "'intermediate_size' is 1099511627776, more than 1048576" },
        { "bert/classifier", "type_vocab_size", 1L << 40, "'type_vocab_size' is 1099511627776, more than 16777216" },
        { "bert/classifier_mean", "num_hidden_layers", 1L << 40, "'num_hidden_layers' is 1099511627776, more than 1024" },

        // Within the bounds but not what the checkpoint holds: refused from the safetensors header.
        { "t5/v10", "vocab_size", 1000, "'vocab_size' is 1000 but " },
        { "t5/v10", "d_model", 18, "'d_model' is 18 but " },
        { "t5/v10", "d_kv", 7, "'d_kv × num_heads' is 21 but " },
        { "t5/v10", "num_heads", 4, "'num_heads' is 4 but " },
        { "t5/v10", "d_ff", 25, "'d_ff' is 25 but " },
        { "t5/v10", "relative_attention_num_buckets", 9, "'relative_attention_num_buckets' is 9 but " },
        { "t5/v10", "num_layers", 3, "'num_layers' is 3 but " },
        { "t5/v11", "d_ff", 100000, "'d_ff' is 100000 but " },
        { "roberta/mlm", "vocab_size", 4096, "'vocab_size' is 4096 but " },
        { "roberta/mlm", "hidden_size", 36, "'hidden_size' is 36 but " },
        { "roberta/mlm", "intermediate_size", 65, "'intermediate_size' is 65 but " },
        { "roberta/mlm", "max_position_embeddings", 41, "'max_position_embeddings' is 41 but " },
        { "roberta/mlm", "type_vocab_size", 2, "'type_vocab_size' is 2 but " },
        { "roberta/mlm", "num_hidden_layers", 1, "'num_hidden_layers' is 1 but " },
        { "llama/llama_gqa", "vocab_size", 129, "'vocab_size' is 129 but " },
        { "llama/llama_gqa", "hidden_size", 64, "'hidden_size' is 64 but " },
        { "llama/llama_gqa", "intermediate_size", 1 << 19, "'intermediate_size' is 524288 but " },
        { "llama/llama_gqa", "num_attention_heads", 8, "'num_attention_heads × head_dim' is 64 but " },
        { "llama/llama_gqa", "num_key_value_heads", 4, "'num_key_value_heads × head_dim' is 32 but " },
        { "llama/llama_gqa", "head_dim", 16, "'num_attention_heads × head_dim' is 64 but " },
        { "llama/llama_gqa", "num_hidden_layers", 3, "'num_hidden_layers' is 3 but " },
        { "bert/encoder", "vocab_size", 4096, "'vocab_size' is 4096 but " },
        { "bert/encoder", "hidden_size", 36, "'hidden_size' is 36 but " },
        { "bert/encoder", "max_position_embeddings", 41, "'max_position_embeddings' is 41 but " },
        { "bert/encoder", "num_hidden_layers", 3, "'num_hidden_layers' is 3 but " },
        { "bert/mlm", "vocab_size", 4096, "'vocab_size' is 4096 but " },
        { "bert/mlm", "intermediate_size", 65, "'intermediate_size' is 65 but " },
        { "bert/classifier", "type_vocab_size", 3, "'type_vocab_size' is 3 but " },
        { "bert/classifier_mean", "num_hidden_layers", 1, "'num_hidden_layers' is 1 but " },
    };

    [Theory]
    [MemberData(nameof(AbsurdSizes))]
    public void A_config_size_the_checkpoint_does_not_have_is_refused_naming_the_key(string fixture, string key, long value, string expected)
    {
        string model = CopyWithConfig(fixture, key, value);

        var e = Assert.Throws<CheckpointException>(() => ModelLoader.Load(model));

        Assert.StartsWith(Path.Combine(model, "config.json") + ": ", e.Message, StringComparison.Ordinal);
        Assert.Contains(expected, e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    public static TheoryData<string, string, double, string> RatesOutOfRange => new()
    {
        // A negative initializer_range reached libtorch's normal_ as a negative std: an ExternalException.
        { "roberta/mlm", "initializer_range", -1, "'initializer_range' must be a finite number ≥ 0 within fp32's range, got -1" },
        { "roberta/mlm", "hidden_dropout_prob", 1.5, "'hidden_dropout_prob' must be a probability in [0, 1], got 1.5" },
        { "roberta/classifier", "layer_norm_eps", 0, "'layer_norm_eps' must be a finite number > 0 within fp32's range, got 0" },
        { "t5/v10", "dropout_rate", -0.1, "'dropout_rate' must be a probability in [0, 1], got -0.1" },
        { "t5/v11", "layer_norm_epsilon", -1e-6, "'layer_norm_epsilon' must be a finite number > 0 within fp32's range, got -1E-06" },
        { "llama/llama_gqa", "rms_norm_eps", 0, "'rms_norm_eps' must be a finite number > 0 within fp32's range, got 0" },
        { "llama/llama_gqa", "rope_parameters.rope_theta", 1e308, "'rope_theta' must be a finite number > 0 within fp32's range, got 1E+308" },
        { "llama/llama_gqa", "attention_dropout", 2, "'attention_dropout' must be a probability in [0, 1], got 2" },
        { "bert/encoder", "initializer_range", -1, "'initializer_range' must be a finite number ≥ 0 within fp32's range, got -1" },
        { "bert/mlm", "attention_probs_dropout_prob", 1.5, "'attention_probs_dropout_prob' must be a probability in [0, 1], got 1.5" },
        { "bert/classifier", "classifier_dropout", -0.5, "'classifier_dropout' must be a probability in [0, 1], got -0.5" },
        { "bert/classifier_mean", "layer_norm_eps", 1e39, "'layer_norm_eps' must be a finite number > 0 within fp32's range, got 1E+39" },
    };

    [Theory]
    [MemberData(nameof(RatesOutOfRange))]
    public void A_rate_out_of_its_range_is_refused_naming_the_key(string fixture, string key, double value, string expected)
    {
        string model = Path.Combine(dir, "rate");
        CopyFixture(fixture, model);
        string configPath = Path.Combine(model, "config.json");
        JsonObject config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        string[] path = key.Split('.'); // rope_parameters.rope_theta: a nested key
        (path.Length == 1 ? config : config[path[0]]!.AsObject())[path[^1]] = value;
        File.WriteAllText(configPath, config.ToJsonString());

        var e = Assert.Throws<CheckpointException>(() => ModelLoader.Load(model));

        Assert.Equal($"{configPath}: {expected}", e.Message);
    }

    [Fact]
    public void A_mismatch_names_the_tensor_and_its_shape()
    {
        string model = CopyWithConfig("llama/llama_gqa", "vocab_size", 129);

        var e = Assert.Throws<CheckpointException>(() => ModelLoader.Load(model));

        Assert.EndsWith("has 'model.embed_tokens.weight' of shape [128, 32] (128 in dimension 0)", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_layer_count_names_the_first_block_the_checkpoint_lacks()
    {
        string model = CopyWithConfig("t5/v10", "num_layers", 3);

        var e = Assert.Throws<CheckpointException>(() => ModelLoader.Load(model));

        Assert.EndsWith("has 2, numbered 0 to 1 under 'encoder.block.'; no 'encoder.block.2.…'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Pickled_weights_bound_the_model_by_their_bytes()
    {
        // A .bin has no header to read shapes from; a config asking for more parameters than the file has bytes is refused.
        string model = CopyWithConfig("llama/llama_gqa", "vocab_size", 1 << 20);
        Dictionary<string, Tensor> state = StateDictFiles.Load(model);
        PyTorchPickler.PickleStateDict(Path.Combine(model, StateDictFiles.PyTorchBin), state.ToDictionary(kv => kv.Key, kv => kv.Value));
        File.Delete(Path.Combine(model, StateDictFiles.SafeTensors));
        foreach (Tensor t in state.Values)
        {
            t.Dispose();
        }

        var e = Assert.Throws<CheckpointException>(() => ModelLoader.Load(model));

        Assert.Contains("config.json: describes a model of 67", e.Message, StringComparison.Ordinal);
        Assert.Contains("pytorch_model.bin has only ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_tensor_is_named_before_the_model_is_allocated()
    {
        // The meta-device model is checked against the header, so the binder's message comes first.
        string model = CopyWithConfig("roberta/mlm", "vocab_size", 96);
        Dictionary<string, Tensor> state = StateDictFiles.Load(model);
        state.Remove("roberta.embeddings.position_embeddings.weight", out Tensor? removed);
        removed!.Dispose();
        StateDictFiles.Save(model, state);
        foreach (Tensor t in state.Values)
        {
            t.Dispose();
        }

        var e = Assert.Throws<CheckpointException>(() => RobertaForSequenceClassification.FromEncoder(model, ["a", "b"]));
        Assert.Contains("missing key 'embeddings.position_embeddings.weight'", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void The_fixtures_themselves_still_load()
    {
        foreach (string fixture in new[] { "t5/v10", "t5/v11", "roberta/mlm", "roberta/classifier", "llama/llama_gqa", "llama/llama_tied_llama3", "bert/encoder", "bert/mlm", "bert/classifier", "bert/classifier_mean" })
        {
            using LanguageModel model = ModelLoader.Load(Path.Combine(Fixtures, fixture));
        }
    }

    private static void CopyFixture(string fixture, string target)
    {
        Directory.CreateDirectory(target);
        foreach (string file in Directory.GetFiles(Path.Combine(Fixtures, fixture)))
        {
            File.Copy(file, Path.Combine(target, Path.GetFileName(file)));
        }
    }

    private string CopyWithConfig(string fixture, string key, long value)
    {
        string target = Path.Combine(dir, fixture.Replace('/', '_'));
        CopyFixture(fixture, target);

        string configPath = Path.Combine(target, "config.json");
        JsonObject config = JsonNode.Parse(File.ReadAllText(configPath))!.AsObject();
        config[key] = value;
        File.WriteAllText(configPath, config.ToJsonString());
        return target;
    }
}
