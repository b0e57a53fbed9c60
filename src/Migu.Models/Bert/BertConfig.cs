using System.Globalization;
using System.Text;
using System.Text.Json;
using Migu.Models.Checkpoints;
using Migu.Models.Encoders;
using Migu.Models.Roberta;

namespace Migu.Models.Bert;

/// <summary>What a BERT sequence classifier feeds its classifier.</summary>
public enum ClassifierPooling
{
    /// <summary>transformers' BertForSequenceClassification: the pooler (dense + tanh) of the [CLS] state.</summary>
    Pooler,

    /// <summary>
    /// The mean of the last hidden state over real (attention mask 1) tokens, as sentence-transformers
    /// trains MiniLM; no pooler is built. Written as config.json's <c>classifier_pooling: "mean"</c>,
    /// a key of ours that transformers ignores: it would load such a checkpoint with the pooler head
    /// and a freshly initialised pooler.
    /// </summary>
    Mean,
}

/// <summary>
/// A BERT config.json (transformers' BertConfig, model_type "bert"): the encoder's sizes, the
/// labels of a sequence classifier, and how that classifier pools (<see cref="ClassifierPooling"/>).
/// </summary>
public sealed record BertConfig : IEncoderConfig
{
    public const string ModelType = "bert";

    public long VocabSize { get; init; } = 30522;

    public long HiddenSize { get; init; } = 768;

    public long NumHiddenLayers { get; init; } = 12;

    public long NumAttentionHeads { get; init; } = 12;

    public long IntermediateSize { get; init; } = 3072;

    /// <summary>Activation of the feed-forward layer and of the MLM transform; only "gelu" (exact, erf) is supported.</summary>
    public string HiddenAct { get; init; } = "gelu";

    public double HiddenDropoutProb { get; init; } = 0.1;

    public double AttentionProbsDropoutProb { get; init; } = 0.1;

    /// <summary>Rows of the position table, the longest sequence the model reads.</summary>
    public long MaxPositionEmbeddings { get; init; } = 512;

    /// <summary>Segments (token types); BERT has two.</summary>
    public long TypeVocabSize { get; init; } = 2;

    public double InitializerRange { get; init; } = 0.02;

    public double LayerNormEps { get; init; } = 1e-12;

    /// <summary>The pad id ([PAD] is 0 in BERT's vocabularies); padding_idx of the word embedding.</summary>
    public long PadTokenId { get; init; }

    /// <summary>Dropout before the classifier; null means HiddenDropoutProb, as transformers does.</summary>
    public double? ClassifierDropout { get; init; }

    /// <summary>What the sequence classifier reads (not a transformers key; see <see cref="ClassifierPooling"/>).</summary>
    public ClassifierPooling ClassifierPooling { get; init; } = ClassifierPooling.Pooler;

    /// <summary>Classes of a sequence classifier (1 means regression with a mean-squared-error loss).</summary>
    public long NumLabels { get; init; } = 2;

    /// <summary>Class names by index; null means transformers' defaults LABEL_0, LABEL_1, ….</summary>
    public IReadOnlyList<string>? Id2Label { get; init; }

    /// <summary>The class this config is saved for (transformers' architectures[0]): BertModel, BertForMaskedLM or BertForSequenceClassification.</summary>
    public string Architecture { get; init; } = "BertModel";

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

        if (PadTokenId < 0 || PadTokenId >= VocabSize)
        {
            throw new CheckpointException($"{source}: pad_token_id {PadTokenId} is outside the vocabulary of {VocabSize}");
        }

        if (Id2Label is not null && Id2Label.Count != NumLabels)
        {
            throw new CheckpointException($"{source}: id2label has {Id2Label.Count} entries but num_labels is {NumLabels}");
        }
    }

    /// <summary>
    /// Every size, its bound and the checkpoint tensor that shows it (transformers' BERT key names).
    /// <paramref name="encoderPrefix"/> is where the checkpoint keeps the encoder: <c>bert.</c> for a
    /// head's checkpoint, empty for a bare encoder's (<see cref="EncoderPrefixOf"/>).
    /// </summary>
    public ConfigSizes Sizes(string source, string encoderPrefix = "")
    {
        string embeddings = encoderPrefix + "embeddings.";
        return new ConfigSizes(source)
            .Size("vocab_size", VocabSize, ConfigSizes.MaxVocabulary,
                (embeddings + "word_embeddings.weight", 0), ("cls.predictions.bias", 0), ("cls.predictions.decoder.weight", 0))
            .Size("hidden_size", HiddenSize, ConfigSizes.MaxWidth, (embeddings + "word_embeddings.weight", 1), (embeddings + "LayerNorm.weight", 0))
            .Size("num_attention_heads", NumAttentionHeads, ConfigSizes.MaxHeads)
            .Size("intermediate_size", IntermediateSize, ConfigSizes.MaxFeedForward, (encoderPrefix + "encoder.layer.0.intermediate.dense.weight", 0))
            .Size("max_position_embeddings", MaxPositionEmbeddings, ConfigSizes.MaxPositions, (embeddings + "position_embeddings.weight", 0))
            .Size("type_vocab_size", TypeVocabSize, ConfigSizes.MaxVocabulary, (embeddings + "token_type_embeddings.weight", 0))
            .Size("num_labels", NumLabels, ConfigSizes.MaxLabels, ("classifier.weight", 0))
            .Layers("num_hidden_layers", NumHiddenLayers, encoderPrefix + "encoder.layer.")
            .Probability("hidden_dropout_prob", HiddenDropoutProb)
            .Probability("attention_probs_dropout_prob", AttentionProbsDropoutProb)
            .Probability("classifier_dropout", ClassifierDropout ?? 0)
            .Positive("initializer_range", InitializerRange, zeroAllowed: true)
            .Positive("layer_norm_eps", LayerNormEps);
    }

    /// <summary>
    /// Where a checkpoint keeps the encoder: <c>bert.</c> when any key starts with it (a head's
    /// checkpoint), else nothing (a bare encoder's); a pickled checkpoint, whose keys are unknown
    /// until it is loaded, is taken to be a head's.
    /// </summary>
    public static string EncoderPrefixOf(CheckpointShapes checkpoint)
    {
        ArgumentNullException.ThrowIfNull(checkpoint);
        return checkpoint.Shapes is { } shapes && !shapes.Keys.Any(k => k.StartsWith(HeadEncoderPrefix, StringComparison.Ordinal))
            ? string.Empty
            : HeadEncoderPrefix;
    }

    /// <summary>The prefix of the encoder's keys in a head's checkpoint (transformers' base_model_prefix).</summary>
    public const string HeadEncoderPrefix = "bert.";

    /// <summary>Reads a transformers BertConfig; keys that are absent take transformers' defaults.</summary>
    public static BertConfig FromConfig(ConfigReader reader)
    {
        reader.RequireModelType(ModelType);

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
            throw new CheckpointException($"{reader.Source}: is_decoder is true; only the BERT encoder is supported");
        }

        var defaults = new BertConfig();
        List<string>? labels = RobertaConfig.ReadId2Label(reader);
        var config = new BertConfig
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
            ClassifierDropout = reader.Find("classifier_dropout") is null ? null : reader.Double(0, "classifier_dropout"),
            ClassifierPooling = ReadPooling(reader),
            NumLabels = reader.Long(labels?.Count ?? defaults.NumLabels, "num_labels"),
            Id2Label = labels,
            Architecture = RobertaConfig.ReadArchitecture(reader) ?? defaults.Architecture,
        };
        config.Validate(reader.Source);
        return config;
    }

    /// <summary>The config.json transformers writes for this model (model_type "bert"), plus classifier_pooling.</summary>
    public string ToJson()
    {
        using var stream = new MemoryStream();
        using (var w = new Utf8JsonWriter(stream, new JsonWriterOptions { Indented = true }))
        {
            w.WriteStartObject();
            w.WriteStartArray("architectures");
            w.WriteStringValue(Architecture);
            w.WriteEndArray();
            w.WriteString("model_type", ModelType);
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
            w.WriteString("position_embedding_type", "absolute");
            if (ClassifierDropout is double dropout)
            {
                w.WriteFloat("classifier_dropout", dropout);
            }
            else
            {
                w.WriteNull("classifier_dropout");
            }

            w.WriteString("classifier_pooling", ClassifierPooling == ClassifierPooling.Mean ? "mean" : "pooler");

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

    private static ClassifierPooling ReadPooling(ConfigReader reader) => reader.String("classifier_pooling") switch
    {
        null or "pooler" => ClassifierPooling.Pooler,
        "mean" => ClassifierPooling.Mean,
        string other => throw new CheckpointException($"{reader.Source}: classifier_pooling '{other}' is not supported (pooler or mean)"),
    };
}
