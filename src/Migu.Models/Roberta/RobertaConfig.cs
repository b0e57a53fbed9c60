using System.Globalization;
using System.Text;
using System.Text.Json;
using Migu.Models.Checkpoints;
using Migu.Models.Encoders;

namespace Migu.Models.Roberta;

/// <summary>
/// A RoBERTa config.json (transformers' RobertaConfig): the encoder's sizes, the padding index
/// that also offsets position ids, and the labels of a sequence classifier.
/// </summary>
public sealed record RobertaConfig : IEncoderConfig
{
    /// <summary>Rows of the word embedding and of the tied MLM decoder.</summary>
    public long VocabSize { get; init; } = 50265;

    /// <summary>Width of the residual stream (C).</summary>
    public long HiddenSize { get; init; } = 768;

    public long NumHiddenLayers { get; init; } = 12;

    public long NumAttentionHeads { get; init; } = 12;

    /// <summary>Width of the feed-forward layer inside each block.</summary>
    public long IntermediateSize { get; init; } = 3072;

    /// <summary>Activation of the feed-forward layer; only "gelu" (exact, erf) is supported.</summary>
    public string HiddenAct { get; init; } = "gelu";

    /// <summary>Dropout after the embeddings and after each sub-layer's output projection (train mode only).</summary>
    public double HiddenDropoutProb { get; init; } = 0.1;

    /// <summary>Dropout on the attention probabilities (train mode only).</summary>
    public double AttentionProbsDropoutProb { get; init; } = 0.1;

    /// <summary>Rows of the position table; positions start at PadTokenId + 1, so usable length is this − PadTokenId − 1.</summary>
    public long MaxPositionEmbeddings { get; init; } = 514;

    public long TypeVocabSize { get; init; } = 1;

    /// <summary>Standard deviation of the normal initialisation of a fresh model.</summary>
    public double InitializerRange { get; init; } = 0.02;

    public double LayerNormEps { get; init; } = 1e-5;

    /// <summary>The pad id; also the padding_idx of the word and position embeddings.</summary>
    public long PadTokenId { get; init; } = 1;

    public long BosTokenId { get; init; }

    public long EosTokenId { get; init; } = 2;

    /// <summary>Dropout of the classification head; null means HiddenDropoutProb, as transformers does.</summary>
    public double? ClassifierDropout { get; init; }

    /// <summary>Classes of a sequence classifier (1 means regression with a mean-squared-error loss).</summary>
    public long NumLabels { get; init; } = 2;

    /// <summary>Class names by index; null means transformers' defaults LABEL_0, LABEL_1, ….</summary>
    public IReadOnlyList<string>? Id2Label { get; init; }

    /// <summary>The head this config is saved for (transformers' architectures[0]).</summary>
    public string Architecture { get; init; } = "RobertaForMaskedLM";

    public long HeadDim => HiddenSize / NumAttentionHeads;

    /// <summary>The name of class <paramref name="index"/>.</summary>
    public string LabelName(int index) => SequenceClassification.LabelName(Id2Label, index);

    /// <summary>Refuses sizes the model cannot be built with, naming the key.</summary>
    public void Validate(string source)
    {
        Sizes(source).CheckBounds();
        if (HiddenSize % NumAttentionHeads != 0)
        {
            throw new CheckpointException($"{source}: hidden_size {HiddenSize} is not a multiple of num_attention_heads {NumAttentionHeads}");
        }

        if (HiddenAct != "gelu")
        {
            throw new CheckpointException($"{source}: hidden_act '{HiddenAct}' is not supported (only 'gelu')");
        }

        if (PadTokenId < 0 || PadTokenId >= VocabSize || PadTokenId >= MaxPositionEmbeddings)
        {
            throw new CheckpointException($"{source}: pad_token_id {PadTokenId} must index both the vocabulary and the position table");
        }

        if (Id2Label is not null && Id2Label.Count != NumLabels)
        {
            throw new CheckpointException($"{source}: id2label has {Id2Label.Count} entries but num_labels is {NumLabels}");
        }
    }

    /// <summary>Every size, its bound and the checkpoint tensor that shows it (transformers' RoBERTa key names).</summary>
    public ConfigSizes Sizes(string source)
    {
        const string Embeddings = "roberta.embeddings.";
        return new ConfigSizes(source)
            .Size("vocab_size", VocabSize, ConfigSizes.MaxVocabulary, (Embeddings + "word_embeddings.weight", 0), ("lm_head.bias", 0), ("lm_head.decoder.weight", 0))
            .Size("hidden_size", HiddenSize, ConfigSizes.MaxWidth, (Embeddings + "word_embeddings.weight", 1), (Embeddings + "LayerNorm.weight", 0))
            .Size("num_attention_heads", NumAttentionHeads, ConfigSizes.MaxHeads)
            .Size("intermediate_size", IntermediateSize, ConfigSizes.MaxFeedForward, ("roberta.encoder.layer.0.intermediate.dense.weight", 0))
            .Size("max_position_embeddings", MaxPositionEmbeddings, ConfigSizes.MaxPositions, (Embeddings + "position_embeddings.weight", 0))
            .Size("type_vocab_size", TypeVocabSize, ConfigSizes.MaxVocabulary, (Embeddings + "token_type_embeddings.weight", 0))
            .Size("num_labels", NumLabels, ConfigSizes.MaxLabels, ("classifier.out_proj.weight", 0))
            .Layers("num_hidden_layers", NumHiddenLayers, "roberta.encoder.layer.")
            .Probability("hidden_dropout_prob", HiddenDropoutProb)
            .Probability("attention_probs_dropout_prob", AttentionProbsDropoutProb)
            .Probability("classifier_dropout", ClassifierDropout ?? 0)
            .Positive("initializer_range", InitializerRange, zeroAllowed: true)
            .Positive("layer_norm_eps", LayerNormEps);
    }

    /// <summary>Reads a transformers RobertaConfig; keys that are absent take transformers' defaults.</summary>
    public static RobertaConfig FromConfig(ConfigReader reader)
    {
        reader.RequireModelType("roberta");

        string? positionType = reader.String("position_embedding_type");
        if (positionType is not null && positionType != "absolute")
        {
            throw new CheckpointException($"{reader.Source}: position_embedding_type '{positionType}' is not supported (only 'absolute')");
        }

        if (reader.String("problem_type") is "multi_label_classification")
        {
            throw new CheckpointException($"{reader.Source}: problem_type 'multi_label_classification' is not supported (single-label or regression)");
        }

        if (reader.Bool(false, "is_decoder"))
        {
            throw new CheckpointException($"{reader.Source}: is_decoder is true; only the RoBERTa encoder is supported");
        }

        var defaults = new RobertaConfig();
        List<string>? labels = ReadId2Label(reader);
        var config = new RobertaConfig
        {
            VocabSize = reader.Long(defaults.VocabSize, "vocab_size"),
            HiddenSize = reader.Long(defaults.HiddenSize, "hidden_size"),
            NumHiddenLayers = reader.Long(defaults.NumHiddenLayers, "num_hidden_layers"),
            NumAttentionHeads = reader.Long(defaults.NumAttentionHeads, "num_attention_heads"),
            IntermediateSize = reader.Long(defaults.IntermediateSize, "intermediate_size"),
            HiddenAct = reader.String("hidden_act") ?? defaults.HiddenAct,
            HiddenDropoutProb = reader.Double(defaults.HiddenDropoutProb, "hidden_dropout_prob"),
            AttentionProbsDropoutProb = reader.Double(defaults.AttentionProbsDropoutProb, "attention_probs_dropout_prob"),
            MaxPositionEmbeddings = reader.Long(defaults.MaxPositionEmbeddings, "max_position_embeddings"),
            TypeVocabSize = reader.Long(defaults.TypeVocabSize, "type_vocab_size"),
            InitializerRange = reader.Double(defaults.InitializerRange, "initializer_range"),
            LayerNormEps = reader.Double(defaults.LayerNormEps, "layer_norm_eps"),
            PadTokenId = reader.Long(defaults.PadTokenId, "pad_token_id"),
            BosTokenId = reader.Long(defaults.BosTokenId, "bos_token_id"),
            EosTokenId = reader.LongOrFirst("eos_token_id") ?? defaults.EosTokenId,
            ClassifierDropout = reader.Find("classifier_dropout") is null ? null : reader.Double(0, "classifier_dropout"),
            NumLabels = reader.Long(labels?.Count ?? defaults.NumLabels, "num_labels"),
            Id2Label = labels,
            Architecture = ReadArchitecture(reader) ?? defaults.Architecture,
        };
        config.Validate(reader.Source);
        return config;
    }

    /// <summary>The config.json transformers writes for this model (model_type "roberta").</summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartArray("architectures");
            w.WriteStringValue(Architecture);
            w.WriteEndArray();
            w.WriteString("model_type", "roberta");
            w.WriteNumber("vocab_size", VocabSize);
            w.WriteNumber("hidden_size", HiddenSize);
            w.WriteNumber("num_hidden_layers", NumHiddenLayers);
            w.WriteNumber("num_attention_heads", NumAttentionHeads);
            w.WriteNumber("intermediate_size", IntermediateSize);
            w.WriteString("hidden_act", HiddenAct);
            w.WriteFloat("hidden_dropout_prob", HiddenDropoutProb);
            w.WriteFloat("attention_probs_dropout_prob", AttentionProbsDropoutProb);
            w.WriteNumber("max_position_embeddings", MaxPositionEmbeddings);
            w.WriteNumber("type_vocab_size", TypeVocabSize);
            w.WriteFloat("initializer_range", InitializerRange);
            w.WriteFloat("layer_norm_eps", LayerNormEps);
            w.WriteNumber("pad_token_id", PadTokenId);
            w.WriteNumber("bos_token_id", BosTokenId);
            w.WriteNumber("eos_token_id", EosTokenId);
            w.WriteString("position_embedding_type", "absolute");
            if (ClassifierDropout is double dropout)
            {
                w.WriteFloat("classifier_dropout", dropout);
            }
            else
            {
                w.WriteNull("classifier_dropout");
            }

            // transformers derives num_labels from id2label; both are written so either reader agrees.
            w.WriteNumber("num_labels", NumLabels);
            w.WriteStartObject("id2label");
            for (int i = 0; i < NumLabels; i++)
            {
                w.WriteString(i.ToString(CultureInfo.InvariantCulture), LabelName(i));
            }

            w.WriteEndObject();
            w.WriteStartObject("label2id");
            for (int i = 0; i < NumLabels; i++)
            {
                w.WriteNumber(LabelName(i), i);
            }

            w.WriteEndObject();
            w.WriteString("dtype", "float32");
            w.WriteEndObject();
        }

        return Encoding.UTF8.GetString(stream.ToArray());
    }

    internal static string? ReadArchitecture(ConfigReader reader)
    {
        JsonElement? e = reader.Find("architectures");
        return e is { ValueKind: JsonValueKind.Array } a && a.GetArrayLength() > 0 && a[0].ValueKind == JsonValueKind.String
            ? a[0].GetString()
            : null;
    }

    /// <summary>id2label as a list by index; its keys must be the integers 0 … n−1.</summary>
    internal static List<string>? ReadId2Label(ConfigReader reader)
    {
        JsonElement? e = reader.Find("id2label");
        if (e is null)
        {
            return null;
        }

        if (e.Value.ValueKind != JsonValueKind.Object)
        {
            throw new CheckpointException($"{reader.Source}: 'id2label' must be an object");
        }

        var byIndex = new SortedDictionary<int, string>();
        foreach (JsonProperty p in e.Value.EnumerateObject())
        {
            if (!int.TryParse(p.Name, NumberStyles.None, CultureInfo.InvariantCulture, out int index) || p.Value.ValueKind != JsonValueKind.String)
            {
                throw new CheckpointException($"{reader.Source}: id2label entry '{p.Name}' must map an integer to a string");
            }

            byIndex[index] = p.Value.GetString()!;
        }

        if (byIndex.Count > 0 && (byIndex.Keys.First() != 0 || byIndex.Keys.Last() != byIndex.Count - 1))
        {
            throw new CheckpointException($"{reader.Source}: id2label keys must be 0 … {byIndex.Count - 1}");
        }

        return [.. byIndex.Values];
    }
}
