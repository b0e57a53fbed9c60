using System.Text;
using System.Text.Json;
using Migu.Models.Checkpoints;

namespace Migu.Models.T5;

/// <summary>
/// The fields of a Hugging Face T5 config.json that the model uses. <see cref="FeedForwardProj"/> is
/// "relu" (T5 v1.0) or "gated-gelu" (v1.1, FLAN), in general "[gated-]ACT".
/// </summary>
public sealed record T5Config
{
    public required long VocabSize { get; init; }

    public long DModel { get; init; } = 512;

    public long DKv { get; init; } = 64;

    public long DFf { get; init; } = 2048;

    public long NumLayers { get; init; } = 6;

    public long NumDecoderLayers { get; init; } = 6;

    public long NumHeads { get; init; } = 8;

    public long RelativeAttentionNumBuckets { get; init; } = 32;

    public long RelativeAttentionMaxDistance { get; init; } = 128;

    public double DropoutRate { get; init; } = 0.1;

    public double LayerNormEpsilon { get; init; } = 1e-6;

    public string FeedForwardProj { get; init; } = "relu";

    /// <summary>True: the head is the shared embedding (no separate <c>lm_head.weight</c>).</summary>
    public bool TieWordEmbeddings { get; init; } = true;

    /// <summary>
    /// Whether the decoder output is multiplied by d_model^-½ before the head. transformers 5.17 saves
    /// it (and then always writes tie_word_embeddings true); older configs imply it by tie_word_embeddings.
    /// Null means "as tie_word_embeddings".
    /// </summary>
    public bool? ScaleDecoderOutputs { get; init; }

    public long DecoderStartTokenId { get; init; }

    public long PadTokenId { get; init; }

    public long EosTokenId { get; init; } = 1;

    /// <summary>d_kv · num_heads, the width of q, k, v (need not equal d_model).</summary>
    public long InnerDim => DKv * NumHeads;

    public bool ScalesDecoderOutput => ScaleDecoderOutputs ?? TieWordEmbeddings;

    /// <summary>True for "gated-…": wi_0 (gate, activated) times wi_1 (up).</summary>
    public bool IsGatedAct => ParseFeedForward(FeedForwardProj, "feed_forward_proj").Gated;

    public T5Activation Activation => ParseFeedForward(FeedForwardProj, "feed_forward_proj").Activation;

    /// <summary>Reads a transformers T5 config.json; a missing vocab_size or an unknown feed_forward_proj is a <see cref="CheckpointException"/>.</summary>
    public static T5Config FromConfig(ConfigReader config)
    {
        ArgumentNullException.ThrowIfNull(config);
        config.RequireModelType("t5", "mt5");

        long numLayers = config.Long(6, "num_layers");
        long pad = config.Long(0, "pad_token_id");
        string proj = config.String("feed_forward_proj") ?? "relu";
        ParseFeedForward(proj, $"{config.Source}: feed_forward_proj");
        var result = new T5Config
        {
            VocabSize = config.RequireLong("vocab_size"),
            DModel = config.Long(512, "d_model"),
            DKv = config.Long(64, "d_kv"),
            DFf = config.Long(2048, "d_ff"),
            NumLayers = numLayers,
            NumDecoderLayers = config.Long(numLayers, "num_decoder_layers"),
            NumHeads = config.Long(8, "num_heads"),
            RelativeAttentionNumBuckets = config.Long(32, "relative_attention_num_buckets"),
            RelativeAttentionMaxDistance = config.Long(128, "relative_attention_max_distance"),
            DropoutRate = config.Double(0.1, "dropout_rate"),
            LayerNormEpsilon = config.Double(1e-6, "layer_norm_epsilon"),
            FeedForwardProj = proj,
            TieWordEmbeddings = config.Bool(true, "tie_word_embeddings"),
            ScaleDecoderOutputs = config.Find("scale_decoder_outputs") is null ? null : config.Bool(true, "scale_decoder_outputs"),
            PadTokenId = pad,
            EosTokenId = config.LongOrFirst("eos_token_id") ?? 1,
            DecoderStartTokenId = config.Long(pad, "decoder_start_token_id"),
        };
        result.Validate(config.Source);
        return result;
    }

    /// <summary>Throws a <see cref="CheckpointException"/> naming <paramref name="source"/> for sizes that cannot build a model.</summary>
    public void Validate(string source)
    {
        Sizes(source).CheckBounds();
        ParseFeedForward(FeedForwardProj, $"{source}: feed_forward_proj");
    }

    /// <summary>Every size, its bound and the checkpoint tensor that shows it (transformers' T5 key names).</summary>
    public ConfigSizes Sizes(string source)
    {
        const string SelfAttention = "encoder.block.0.layer.0.SelfAttention.";
        const string FeedForward = "encoder.block.0.layer.1.DenseReluDense.";
        string[] tables = ["shared.weight", "encoder.embed_tokens.weight", "decoder.embed_tokens.weight"];
        return new ConfigSizes(source)
            .Size("vocab_size", VocabSize, ConfigSizes.MaxVocabulary, [.. tables.Append("lm_head.weight").Select(t => (t, 0))])
            .Size("d_model", DModel, ConfigSizes.MaxWidth, [.. tables.Select(t => (t, 1)), ("encoder.final_layer_norm.weight", 0)])
            .Size("d_kv", DKv, ConfigSizes.MaxWidth)
            .Size("num_heads", NumHeads, ConfigSizes.MaxHeads, (SelfAttention + "relative_attention_bias.weight", 1))
            .Size("d_kv × num_heads", ConfigSizes.Product(DKv, NumHeads), ConfigSizes.MaxWidth, (SelfAttention + "q.weight", 0))
            .Size("d_ff", DFf, ConfigSizes.MaxFeedForward, (FeedForward + "wi.weight", 0), (FeedForward + "wi_0.weight", 0))
            .Size("relative_attention_num_buckets", RelativeAttentionNumBuckets, ConfigSizes.MaxHeads, (SelfAttention + "relative_attention_bias.weight", 0))
            .Size("relative_attention_max_distance", RelativeAttentionMaxDistance, ConfigSizes.MaxPositions)
            .Layers("num_layers", NumLayers, "encoder.block.")
            .Layers("num_decoder_layers", NumDecoderLayers, "decoder.block.")
            .Probability("dropout_rate", DropoutRate)
            .Positive("layer_norm_epsilon", LayerNormEpsilon);
    }

    /// <summary>A config.json that transformers' T5ForConditionalGeneration loads (and that <see cref="FromConfig"/> reads back).</summary>
    public string ToJson()
    {
        var (gated, activation) = ParseFeedForward(FeedForwardProj, "feed_forward_proj");
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartArray("architectures");
            w.WriteStringValue("T5ForConditionalGeneration");
            w.WriteEndArray();
            w.WriteString("model_type", "t5");
            w.WriteNumber("vocab_size", VocabSize);
            w.WriteNumber("d_model", DModel);
            w.WriteNumber("d_kv", DKv);
            w.WriteNumber("d_ff", DFf);
            w.WriteNumber("num_layers", NumLayers);
            w.WriteNumber("num_decoder_layers", NumDecoderLayers);
            w.WriteNumber("num_heads", NumHeads);
            w.WriteNumber("relative_attention_num_buckets", RelativeAttentionNumBuckets);
            w.WriteNumber("relative_attention_max_distance", RelativeAttentionMaxDistance);
            w.WriteFloat("dropout_rate", DropoutRate);
            w.WriteFloat("layer_norm_epsilon", LayerNormEpsilon);
            w.WriteFloat("initializer_factor", 1.0);
            w.WriteString("feed_forward_proj", FeedForwardProj);
            w.WriteString("dense_act_fn", ActivationName(activation));
            w.WriteBoolean("is_gated_act", gated);
            w.WriteBoolean("is_encoder_decoder", true);
            w.WriteBoolean("use_cache", true);
            w.WriteBoolean("tie_word_embeddings", TieWordEmbeddings);
            w.WriteBoolean("scale_decoder_outputs", ScalesDecoderOutput);
            w.WriteNumber("pad_token_id", PadTokenId);
            w.WriteNumber("eos_token_id", EosTokenId);
            w.WriteNumber("decoder_start_token_id", DecoderStartTokenId);
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    /// <summary>
    /// transformers' reading of feed_forward_proj: "ACT" or "gated-ACT"; "gated-gelu" means the tanh
    /// approximation (kept for the original v1.1 checkpoints).
    /// </summary>
    internal static (bool Gated, T5Activation Activation) ParseFeedForward(string value, string where)
    {
        string[] parts = value.Split('-');
        bool gated = parts.Length == 2 && parts[0] == "gated";
        if (parts.Length > 2 || (parts.Length == 2 && !gated))
        {
            throw new CheckpointException($"{where}: '{value}' is not 'ACT' or 'gated-ACT'");
        }

        if (value == "gated-gelu")
        {
            return (true, T5Activation.GeluTanh);
        }

        T5Activation activation = parts[^1] switch
        {
            "relu" => T5Activation.Relu,
            "gelu" => T5Activation.Gelu,
            "gelu_new" or "gelu_pytorch_tanh" => T5Activation.GeluTanh,
            "silu" or "swish" => T5Activation.Silu,
            _ => throw new CheckpointException($"{where}: activation '{parts[^1]}' is not supported (relu, gelu, gelu_new, silu)"),
        };
        return (gated, activation);
    }

    private static string ActivationName(T5Activation activation) => activation switch
    {
        T5Activation.Relu => "relu",
        T5Activation.Gelu => "gelu",
        T5Activation.GeluTanh => "gelu_new",
        _ => "silu",
    };
}
