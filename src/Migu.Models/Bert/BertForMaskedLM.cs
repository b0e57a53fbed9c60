using Migu.Core;
using Migu.Models.Checkpoints;
using Migu.Models.Encoders;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Models.Bert;

/// <summary>
/// BERT with its masked-LM head (transformers' BertForMaskedLM, no pooler): logits (B, T, V) and,
/// given labels, the mean cross-entropy over positions whose label is not −100.
/// </summary>
public sealed class BertForMaskedLM : LanguageModel
{
    public const string ArchitectureName = "BertForMaskedLM";

    // Field names are the checkpoint keys.
    private readonly BertModel bert;
    private readonly BertOnlyMlmHead cls;

    /// <summary>A freshly initialised model (as transformers initialises one) on <paramref name="device"/>.</summary>
    public BertForMaskedLM(BertConfig config, Device? device = null)
        : base(nameof(BertForMaskedLM))
    {
        config.Validate(ArchitectureName);
        Config = config with { Architecture = ArchitectureName };
        bert = new BertModel(Config, addPoolingLayer: false, device);
        cls = new BertOnlyMlmHead(Config, () => bert.WordEmbeddingWeight, device);
        RegisterComponents();
        EncoderWeights.Initialize(this, Config, PositionScheme.Absolute);
    }

    public BertConfig Config { get; }

    public override ModelFamily Family => BertFamily.Instance;

    public override long VocabSize => Config.VocabSize;

    /// <summary>Learned absolute positions: a sequence holds at most max_position_embeddings tokens.</summary>
    public override long? MaxPositions => Config.MaxPositionEmbeddings;

    public override string ConfigJson => Config.ToJson();

    /// <summary>
    /// The decoder is tied to the word embedding and its bias is cls.predictions.bias; checkpoints
    /// may still store either under the decoder's name (transformers 4 wrote the bias twice).
    /// </summary>
    public override IReadOnlyDictionary<string, string[]>? CheckpointAliases { get; } = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["bert.embeddings.word_embeddings.weight"] = ["cls.predictions.decoder.weight"],
        ["cls.predictions.bias"] = ["cls.predictions.decoder.bias"],
    };

    /// <summary>Loads config.json and the weights (safetensors or .bin, sharded or not) from a Hugging Face directory.</summary>
    public static BertForMaskedLM FromPretrained(string directory, Device? device = null)
    {
        ConfigReader reader = ConfigReader.FromFile(Path.Combine(directory, ModelCheckpoint.ConfigFile));
        BertConfig config = BertConfig.FromConfig(reader);
        return ModelCheckpoint.Load(directory, config.Sizes(reader.Source, BertConfig.HeadEncoderPrefix), d => new BertForMaskedLM(config, d), device);
    }

    /// <summary>BertForPreTraining checkpoints also hold the pooler, which the MLM model does not build.</summary>
    public override bool IsIgnorableCheckpointKey(string key) =>
        BertWeights.IsIgnorable(key, prefix: "bert.") || key.StartsWith("bert.pooler.", StringComparison.Ordinal);

    public override ModelOutput forward(ModelBatch batch)
    {
        using var scope = NewDisposeScope();
        Tensor logits;
        using (TokenMask.Use(batch.AttentionMask))
        {
            Tensor hidden = bert.Encode(batch.InputIds, batch.AttentionMask); // (B, T, C)
            logits = cls.Forward(hidden); // (B, T, V)
        }

        Tensor? loss = null;
        if (batch.Labels is not null)
        {
            if (!batch.Labels.shape.SequenceEqual(batch.InputIds.shape))
            {
                throw new MiguUserException(
                    $"BERT MLM: labels [{string.Join(", ", batch.Labels.shape)}] must match input ids [{string.Join(", ", batch.InputIds.shape)}]");
            }

            Tensor targets = batch.Labels.to(ScalarType.Int64, logits.device).reshape(-1); // (B·T)
            loss = nn.functional.cross_entropy(logits.reshape(-1, Config.VocabSize), targets, ignore_index: -100);
        }

        return new ModelOutput(logits.MoveToOuterDisposeScope(), loss?.MoveToOuterDisposeScope());
    }

    public override Tensor Generate(Tensor inputIds, Tensor? attentionMask, int maxNewTokens) =>
        throw new MiguUserException("BERT is an encoder; it does not generate");
}

/// <summary>transformers' BertOnlyMLMHead: the module <c>cls</c> holding <c>predictions</c>.</summary>
public sealed class BertOnlyMlmHead : nn.Module
{
    // Field name is the checkpoint key.
    private readonly BertLmPredictionHead predictions;

    /// <param name="config">The model's sizes.</param>
    /// <param name="wordEmbedding">Reads the word embedding matrix (V, C), the decoder's weight, wherever it is now.</param>
    /// <param name="device">Where the head's own parameters are created.</param>
    public BertOnlyMlmHead(BertConfig config, Func<Parameter> wordEmbedding, Device? device = null)
        : base(nameof(BertOnlyMlmHead))
    {
        predictions = new BertLmPredictionHead(config, wordEmbedding, device);
        RegisterComponents();
    }

    /// <param name="hidden">(B, T, C)</param>
    /// <returns>(B, T, V) logits.</returns>
    public Tensor Forward(Tensor hidden) => predictions.Forward(hidden);
}

/// <summary>
/// transformers' BertLMPredictionHead: the transform (dense, exact GELU, LayerNorm), then the
/// decoder, whose weight is the word embedding matrix and whose bias is <c>cls.predictions.bias</c>
/// (both tied, as in transformers, so the decoder owns no parameter and the state dict lists
/// neither twice).
/// </summary>
/// <remarks>
/// The transform's dense and the decoder are <see cref="ProjectionKind.Head"/> projections, as
/// transformers' are nn.Linear and as RoBERTa's lm_head.dense and lm_head.decoder are: they sit
/// outside the blocks, so MIGU's "all", "attention" and "ffn" selections leave them and "head"
/// selects them. The decoder is a <see cref="Projection.Tied"/>: its magnitudes are Σ over real
/// tokens of |logits| per vocabulary entry, and masking one of its rows masks that token's word
/// embedding row, since they are one tensor (see RobertaLMHead).
/// </remarks>
public sealed class BertLmPredictionHead : nn.Module
{
    // Field names are the checkpoint keys.
    private readonly BertPredictionHeadTransform transform;
    private readonly Projection decoder;
    private readonly Parameter bias;

    public BertLmPredictionHead(BertConfig config, Func<Parameter> wordEmbedding, Device? device = null)
        : base(nameof(BertLmPredictionHead))
    {
        transform = new BertPredictionHeadTransform(config, device);
        bias = new Parameter(zeros(config.VocabSize, device: device));
        decoder = Projection.Tied(wordEmbedding, () => bias, ProjectionKind.Head);
        RegisterComponents();
    }

    /// <param name="hidden">(B, T, C)</param>
    /// <returns>(B, T, V) logits.</returns>
    public Tensor Forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        return decoder.call(transform.Forward(hidden)).MoveToOuterDisposeScope();
    }
}

/// <summary>transformers' BertPredictionHeadTransform: dense, exact GELU, LayerNorm.</summary>
public sealed class BertPredictionHeadTransform : nn.Module
{
    // Field names are the checkpoint keys.
    private readonly Projection dense;
    private readonly LayerNorm LayerNorm;

    public BertPredictionHeadTransform(BertConfig config, Device? device = null)
        : base(nameof(BertPredictionHeadTransform))
    {
        dense = new Projection(config.HiddenSize, config.HiddenSize, kind: ProjectionKind.Head, device: device);
        LayerNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps, device: device);
        RegisterComponents();
    }

    public Tensor Forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        return LayerNorm.call(nn.functional.gelu(dense.call(hidden))).MoveToOuterDisposeScope(); // (B, T, C)
    }
}
