using System.Globalization;
using System.Text;
using System.Text.Json;
using Migu.Models.Checkpoints;

namespace Migu.Models.Llama;

/// <summary>How rotary frequencies are rescaled for longer contexts (transformers' <c>rope_type</c>).</summary>
public enum LlamaRopeType
{
    /// <summary>Plain RoPE: inv_freq = θ^(−2i/d).</summary>
    Default,

    /// <summary>Every frequency divided by <see cref="LlamaConfig.RopeFactor"/> (position interpolation).</summary>
    Linear,

    /// <summary>Llama 3.1's scheme: low frequencies divided by the factor, high kept, a smooth blend between.</summary>
    Llama3,
}

/// <summary>
/// The shape and hyper-parameters of a Llama model, read from and written as a Hugging Face
/// config.json. Defaults are transformers' LlamaConfig defaults.
/// </summary>
public sealed record LlamaConfig
{
    public long VocabSize { get; init; } = 32000;

    public long HiddenSize { get; init; } = 4096;

    public long IntermediateSize { get; init; } = 11008;

    public long NumHiddenLayers { get; init; } = 32;

    public long NumAttentionHeads { get; init; } = 32;

    /// <summary>Key/value heads for grouped-query attention; null means one per query head.</summary>
    public long? NumKeyValueHeadsSetting { get; init; }

    /// <summary>Width of one head; null means hidden_size / num_attention_heads.</summary>
    public long? HeadDimSetting { get; init; }

    public double RmsNormEps { get; init; } = 1e-6;

    public double RopeTheta { get; init; } = 10000.0;

    public LlamaRopeType RopeType { get; init; } = LlamaRopeType.Default;

    /// <summary>Scaling factor of linear and llama3 RoPE.</summary>
    public double RopeFactor { get; init; } = 1.0;

    public double RopeLowFreqFactor { get; init; } = 1.0;

    public double RopeHighFreqFactor { get; init; } = 4.0;

    /// <summary>The context length llama3 scaling stretches from; null means max_position_embeddings.</summary>
    public long? RopeOriginalMaxPositionEmbeddings { get; init; }

    public long MaxPositionEmbeddings { get; init; } = 2048;

    public bool TieWordEmbeddings { get; init; }

    public bool AttentionBias { get; init; }

    public bool MlpBias { get; init; }

    /// <summary>Dropout on attention probabilities, applied in training mode only.</summary>
    public double AttentionDropout { get; init; }

    public double InitializerRange { get; init; } = 0.02;

    public long? BosTokenId { get; init; } = 1;

    /// <summary>All end-of-sequence ids (config.json may give one or a list); generation stops at any.</summary>
    public IReadOnlyList<long> EosTokenIds { get; init; } = [2];

    public long? PadTokenId { get; init; }

    public long NumKeyValueHeads => NumKeyValueHeadsSetting ?? NumAttentionHeads;

    public long HeadDim => HeadDimSetting ?? HiddenSize / NumAttentionHeads;

    /// <summary>The first EOS id, or null when the config has none.</summary>
    public long? EosTokenId => EosTokenIds.Count > 0 ? EosTokenIds[0] : null;

    /// <summary>What generation writes after a row finished: pad_token_id, else the first EOS id (as transformers).</summary>
    public long? GenerationPadTokenId => PadTokenId ?? EosTokenId;

    /// <summary>Reads a transformers Llama config.json (old <c>rope_scaling</c>/<c>rope_theta</c> or new <c>rope_parameters</c>).</summary>
    public static LlamaConfig FromConfig(ConfigReader reader)
    {
        reader.RequireModelType("llama");

        string? activation = reader.String("hidden_act");
        if (activation is not null && activation != "silu")
        {
            throw new CheckpointException($"{reader.Source}: hidden_act '{activation}' is not supported (Llama uses 'silu')");
        }

        long heads = reader.RequireLong("num_attention_heads");
        long maxPositions = reader.Long(2048, "max_position_embeddings");
        // transformers prefers the legacy rope_scaling object when both are present.
        string[] rope = ["rope_scaling", "rope_parameters"];
        var config = new LlamaConfig
        {
            VocabSize = reader.RequireLong("vocab_size"),
            HiddenSize = reader.RequireLong("hidden_size"),
            IntermediateSize = reader.RequireLong("intermediate_size"),
            NumHiddenLayers = reader.RequireLong("num_hidden_layers"),
            NumAttentionHeads = heads,
            NumKeyValueHeadsSetting = reader.Find("num_key_value_heads") is null ? null : reader.RequireLong("num_key_value_heads"),
            HeadDimSetting = reader.Find("head_dim") is null ? null : reader.RequireLong("head_dim"),
            RmsNormEps = reader.Double(1e-6, "rms_norm_eps"),
            RopeTheta = reader.Double(10000.0, [.. rope.Select(r => r + ".rope_theta"), "rope_theta"]),
            RopeType = ParseRopeType(reader, reader.String([.. rope.SelectMany(r => new[] { r + ".rope_type", r + ".type" })])),
            RopeFactor = reader.Double(1.0, [.. rope.Select(r => r + ".factor")]),
            RopeLowFreqFactor = reader.Double(1.0, [.. rope.Select(r => r + ".low_freq_factor")]),
            RopeHighFreqFactor = reader.Double(4.0, [.. rope.Select(r => r + ".high_freq_factor")]),
            RopeOriginalMaxPositionEmbeddings = reader.Find([.. rope.Select(r => r + ".original_max_position_embeddings")]) is null
                ? null
                : reader.RequireLong([.. rope.Select(r => r + ".original_max_position_embeddings")]),
            MaxPositionEmbeddings = maxPositions,
            TieWordEmbeddings = reader.Bool(false, "tie_word_embeddings"),
            AttentionBias = reader.Bool(false, "attention_bias"),
            MlpBias = reader.Bool(false, "mlp_bias"),
            AttentionDropout = reader.Double(0.0, "attention_dropout"),
            InitializerRange = reader.Double(0.02, "initializer_range"),
            BosTokenId = Present(reader, "bos_token_id") ? reader.LongOrFirst("bos_token_id") : 1,
            EosTokenIds = Present(reader, "eos_token_id") ? ReadIds(reader, "eos_token_id") : [2],
            PadTokenId = reader.LongOrFirst("pad_token_id"),
        };
        config.Validate(reader.Source);
        return config;
    }

    /// <summary>A config.json that transformers' LlamaForCausalLM loads (v5 layout: RoPE settings in <c>rope_parameters</c>).</summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartArray("architectures");
            w.WriteStringValue("LlamaForCausalLM");
            w.WriteEndArray();
            w.WriteString("model_type", "llama");
            w.WriteNumber("vocab_size", VocabSize);
            w.WriteNumber("hidden_size", HiddenSize);
            w.WriteNumber("intermediate_size", IntermediateSize);
            w.WriteNumber("num_hidden_layers", NumHiddenLayers);
            w.WriteNumber("num_attention_heads", NumAttentionHeads);
            w.WriteNumber("num_key_value_heads", NumKeyValueHeads);
            w.WriteNumber("head_dim", HeadDim);
            w.WriteString("hidden_act", "silu");
            w.WriteNumber("max_position_embeddings", MaxPositionEmbeddings);
            w.WriteFloat("initializer_range", InitializerRange);
            w.WriteFloat("rms_norm_eps", RmsNormEps);
            w.WriteStartObject("rope_parameters");
            w.WriteString("rope_type", RopeTypeName(RopeType));
            w.WriteFloat("rope_theta", RopeTheta);
            if (RopeType != LlamaRopeType.Default)
            {
                w.WriteFloat("factor", RopeFactor);
            }

            if (RopeType == LlamaRopeType.Llama3)
            {
                w.WriteFloat("low_freq_factor", RopeLowFreqFactor);
                w.WriteFloat("high_freq_factor", RopeHighFreqFactor);
                w.WriteNumber("original_max_position_embeddings", RopeOriginalMaxPositionEmbeddings ?? MaxPositionEmbeddings);
            }

            w.WriteEndObject();
            w.WriteBoolean("tie_word_embeddings", TieWordEmbeddings);
            w.WriteBoolean("attention_bias", AttentionBias);
            w.WriteFloat("attention_dropout", AttentionDropout);
            w.WriteBoolean("mlp_bias", MlpBias);
            w.WriteNumber("pretraining_tp", 1);
            w.WriteBoolean("use_cache", true);
            WriteId(w, "bos_token_id", BosTokenId);
            if (EosTokenIds.Count == 1)
            {
                w.WriteNumber("eos_token_id", EosTokenIds[0]);
            }
            else if (EosTokenIds.Count == 0)
            {
                w.WriteNull("eos_token_id");
            }
            else
            {
                w.WriteStartArray("eos_token_id");
                foreach (long id in EosTokenIds)
                {
                    w.WriteNumberValue(id);
                }

                w.WriteEndArray();
            }

            WriteId(w, "pad_token_id", PadTokenId);
            // transformers 5 reads "dtype"; older versions read "torch_dtype".
            w.WriteString("dtype", "float32");
            w.WriteString("torch_dtype", "float32");
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray()) + "\n";
    }

    /// <summary>Equal when the configs would write the same config.json (the EOS list compares by value).</summary>
    public bool Equals(LlamaConfig? other) => other is not null && string.Equals(ToJson(), other.ToJson(), StringComparison.Ordinal);

    public override int GetHashCode() => ToJson().GetHashCode(StringComparison.Ordinal);

    /// <summary>Throws a <see cref="CheckpointException"/> naming <paramref name="source"/> when the shapes do not fit together.</summary>
    public void Validate(string source)
    {
        new ConfigSizes(source)
            .Size("vocab_size", VocabSize, ConfigSizes.MaxVocabulary)
            .Size("hidden_size", HiddenSize, ConfigSizes.MaxWidth)
            .Size("intermediate_size", IntermediateSize, ConfigSizes.MaxFeedForward)
            .Size("num_hidden_layers", NumHiddenLayers, ConfigSizes.MaxLayers)
            .Size("num_attention_heads", NumAttentionHeads, ConfigSizes.MaxHeads)
            .Size("num_key_value_heads", NumKeyValueHeads, ConfigSizes.MaxHeads)
            .CheckBounds();
        if (HeadDimSetting is null && HiddenSize % NumAttentionHeads != 0)
        {
            throw new CheckpointException($"{source}: hidden_size {HiddenSize} is not divisible by num_attention_heads {NumAttentionHeads} (give head_dim)");
        }

        if (HeadDim <= 0 || HeadDim % 2 != 0)
        {
            throw new CheckpointException($"{source}: head_dim must be positive and even for rotary embeddings, got {HeadDim}");
        }

        Sizes(source).CheckBounds();

        if (NumAttentionHeads % NumKeyValueHeads != 0)
        {
            throw new CheckpointException($"{source}: num_attention_heads {NumAttentionHeads} is not a multiple of num_key_value_heads {NumKeyValueHeads}");
        }

        if (RopeType != LlamaRopeType.Default && RopeFactor <= 0)
        {
            throw new CheckpointException($"{source}: rope factor must be positive, got {RopeFactor}");
        }

        if (RopeType == LlamaRopeType.Llama3 && RopeHighFreqFactor <= RopeLowFreqFactor)
        {
            throw new CheckpointException($"{source}: llama3 rope needs high_freq_factor > low_freq_factor, got {RopeHighFreqFactor} and {RopeLowFreqFactor}");
        }
    }

    /// <summary>
    /// Every size, its bound and the checkpoint tensor that shows it (transformers' Llama key names).
    /// Call after the head counts are known to be positive (<see cref="Validate"/> checks them first).
    /// </summary>
    public ConfigSizes Sizes(string source)
    {
        const string Attention = "model.layers.0.self_attn.";
        return new ConfigSizes(source)
            .Size("vocab_size", VocabSize, ConfigSizes.MaxVocabulary, ("model.embed_tokens.weight", 0), ("lm_head.weight", 0))
            .Size("hidden_size", HiddenSize, ConfigSizes.MaxWidth, ("model.embed_tokens.weight", 1), ("lm_head.weight", 1), ("model.norm.weight", 0))
            .Size("intermediate_size", IntermediateSize, ConfigSizes.MaxFeedForward, ("model.layers.0.mlp.gate_proj.weight", 0), ("model.layers.0.mlp.up_proj.weight", 0))
            .Size("num_attention_heads", NumAttentionHeads, ConfigSizes.MaxHeads)
            .Size("num_key_value_heads", NumKeyValueHeads, ConfigSizes.MaxHeads)
            .Size("head_dim", HeadDim, ConfigSizes.MaxWidth)
            .Size("num_attention_heads × head_dim", ConfigSizes.Product(NumAttentionHeads, HeadDim), ConfigSizes.MaxWidth, (Attention + "q_proj.weight", 0))
            .Size("num_key_value_heads × head_dim", ConfigSizes.Product(NumKeyValueHeads, HeadDim), ConfigSizes.MaxWidth, (Attention + "k_proj.weight", 0))
            .Size("max_position_embeddings", MaxPositionEmbeddings, ConfigSizes.MaxPositions)
            .Size("original_max_position_embeddings", RopeOriginalMaxPositionEmbeddings ?? MaxPositionEmbeddings, ConfigSizes.MaxPositions)
            .Layers("num_hidden_layers", NumHiddenLayers, "model.layers.")
            .Positive("rms_norm_eps", RmsNormEps)
            .Positive("rope_theta", RopeTheta)
            .Positive("rope factor", RopeType == LlamaRopeType.Default ? 1 : RopeFactor) // read only by scaled RoPE
            .Positive("low_freq_factor", RopeType == LlamaRopeType.Llama3 ? RopeLowFreqFactor : 1)
            .Positive("high_freq_factor", RopeType == LlamaRopeType.Llama3 ? RopeHighFreqFactor : 1)
            .Probability("attention_dropout", AttentionDropout)
            .Positive("initializer_range", InitializerRange, zeroAllowed: true);
    }

    internal static string RopeTypeName(LlamaRopeType type) => type switch
    {
        LlamaRopeType.Linear => "linear",
        LlamaRopeType.Llama3 => "llama3",
        _ => "default",
    };

    private static LlamaRopeType ParseRopeType(ConfigReader reader, string? name) => name switch
    {
        null or "default" => LlamaRopeType.Default,
        "linear" => LlamaRopeType.Linear,
        "llama3" => LlamaRopeType.Llama3,
        _ => throw new CheckpointException($"{reader.Source}: rope type '{name}' is not supported (default, linear, llama3)"),
    };

    private static bool Present(ConfigReader reader, string key) => reader.Root.TryGetProperty(key, out _);

    private static long[] ReadIds(ConfigReader reader, string key)
    {
        JsonElement? e = reader.Find(key);
        if (e is null)
        {
            return [];
        }

        try
        {
            return e.Value.ValueKind == JsonValueKind.Array
                ? [.. e.Value.EnumerateArray().Select(x => x.GetInt64())]
                : [e.Value.GetInt64()];
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException)
        {
            throw new CheckpointException($"{reader.Source}: '{key}' must be an integer or a list of integers", ex);
        }
    }

    /// <summary>A float as Python writes it (8.0, not 8), so transformers reads a float where it expects one.</summary>
    private static void WriteId(Utf8JsonWriter w, string name, long? id)
    {
        if (id is null)
        {
            w.WriteNull(name);
        }
        else
        {
            w.WriteNumber(name, id.Value);
        }
    }

    /// <summary>Invariant formatting for messages.</summary>
    public override string ToString() => string.Create(CultureInfo.InvariantCulture, $"LlamaConfig(vocab {VocabSize}, hidden {HiddenSize}, layers {NumHiddenLayers}, heads {NumAttentionHeads}/{NumKeyValueHeads}, rope {RopeTypeName(RopeType)})");
}
