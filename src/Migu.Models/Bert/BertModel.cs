using Migu.Core;
using Migu.Models.Checkpoints;
using Migu.Models.Encoders;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Models.Bert;

/// <summary>
/// The BERT encoder (transformers' BertModel): embeddings with absolute positions and token
/// types, the post-LN blocks RoBERTa shares, and optionally the pooler. Loaded on its own (a
/// checkpoint whose keys have no <c>bert.</c> prefix, such as an imported sentence encoder) its
/// forward returns the last hidden state (B, T, C) as <see cref="ModelOutput.Logits"/>: a bare
/// encoder has no head and no loss.
/// </summary>
public sealed class BertModel : LanguageModel
{
    public const string ArchitectureName = "BertModel";

    // Field names are the checkpoint keys.
    private readonly EncoderEmbeddings embeddings;
    private readonly EncoderBlocks encoder;
    private readonly BertPooler? pooler;

    /// <summary>A freshly initialised encoder (as transformers initialises one), with the pooler when <paramref name="addPoolingLayer"/>.</summary>
    public BertModel(BertConfig config, bool addPoolingLayer = true, Device? device = null)
        : base(nameof(BertModel))
    {
        config.Validate(ArchitectureName);
        Config = config;
        embeddings = new EncoderEmbeddings(config, PositionScheme.Absolute, "BERT", device);
        encoder = new EncoderBlocks(config, device);
        if (addPoolingLayer)
        {
            pooler = new BertPooler(config, device);
        }

        RegisterComponents();
        EncoderWeights.Initialize(this, config, PositionScheme.Absolute);
    }

    public BertConfig Config { get; }

    public override ModelFamily Family => BertFamily.Instance;

    public override long VocabSize => Config.VocabSize;

    /// <summary>Learned absolute positions: a sequence holds at most max_position_embeddings tokens.</summary>
    public override long? MaxPositions => Config.MaxPositionEmbeddings;

    public override string ConfigJson => (Config with { Architecture = ArchitectureName }).ToJson();

    public bool HasPooler => pooler is not null;

    /// <summary>The word embedding matrix (V, C), which the MLM decoder shares.</summary>
    public Parameter WordEmbeddingWeight => embeddings.WordEmbeddingWeight;

    /// <summary>
    /// Loads a bare-encoder checkpoint (keys without <c>bert.</c>); the pooler is built when the
    /// checkpoint has one. Sizes and keys are checked against the checkpoint before the model is built.
    /// </summary>
    public static BertModel FromPretrained(string directory, Device? device = null)
    {
        ConfigReader reader = ConfigReader.FromFile(Path.Combine(directory, ModelCheckpoint.ConfigFile));
        BertConfig config = BertConfig.FromConfig(reader);
        bool pooled = BertWeights.HasPooler(directory, StateDictFiles.Inspect(directory), prefix: "");
        return ModelCheckpoint.Load(directory, config.Sizes(reader.Source), d => new BertModel(config, pooled, d), device);
    }

    public override bool IsIgnorableCheckpointKey(string key) => BertWeights.IsIgnorable(key, prefix: "");

    /// <summary>
    /// The last hidden state (B, T, C). The caller puts the token mask in force
    /// (<c>TokenMask.Use</c>) so the blocks' magnitudes exclude padding; <paramref name="attentionMask"/>
    /// (B, T) also hides padded keys from attention. <paramref name="tokenTypeIds"/> null means segment 0.
    /// </summary>
    public Tensor Encode(Tensor inputIds, Tensor? attentionMask, Tensor? tokenTypeIds = null)
    {
        using var scope = NewDisposeScope();
        Tensor? keyMask = EncoderBlocks.KeyMask(inputIds, attentionMask, "BERT");
        Tensor x = embeddings.Forward(inputIds, tokenTypeIds); // (B, T, C)
        return encoder.Forward(x, keyMask).MoveToOuterDisposeScope();
    }

    /// <summary>The pooler output (B, C): dense + tanh of the first ([CLS]) state. One row per sequence, so the caller clears the token mask.</summary>
    public Tensor Pool(Tensor hidden) =>
        (pooler ?? throw new MiguUserException("BERT: this encoder was built without a pooler")).Forward(hidden);

    /// <summary>sentence-transformers' mean pooling: Σ over real tokens of the last hidden state / their count, (B, C).</summary>
    public static Tensor MeanPool(Tensor hidden, Tensor? attentionMask)
    {
        using var scope = NewDisposeScope();
        if (attentionMask is null)
        {
            return hidden.mean([1L]).MoveToOuterDisposeScope();
        }

        Tensor weights = attentionMask.to(hidden.dtype, hidden.device).unsqueeze(-1); // (B, T, 1)
        Tensor sum = hidden.mul(weights).sum(1); // (B, C)
        return sum.div(weights.sum(1).clamp_min(1e-9)).MoveToOuterDisposeScope();
    }

    public override ModelOutput forward(ModelBatch batch)
    {
        if (batch.Labels is not null)
        {
            throw new MiguUserException("BERT: a bare encoder (BertModel) has no head and computes no loss; load it as a classifier or masked LM");
        }

        using var scope = NewDisposeScope();
        Tensor hidden;
        using (TokenMask.Use(batch.AttentionMask))
        {
            hidden = Encode(batch.InputIds, batch.AttentionMask); // (B, T, C)
        }

        return new ModelOutput(hidden.MoveToOuterDisposeScope(), null);
    }

    public override Tensor Generate(Tensor inputIds, Tensor? attentionMask, int maxNewTokens) =>
        throw new MiguUserException("BERT is an encoder; it does not generate");
}

/// <summary>
/// transformers' BertPooler: dense + tanh of the first token's state. Its projection is
/// <see cref="ProjectionKind.Head"/>: it sits outside the blocks, so MIGU's "all", "attention"
/// and "ffn" selections leave it and "head" selects it, as for RoBERTa's classification head.
/// </summary>
public sealed class BertPooler : nn.Module
{
    // Field name is the checkpoint key.
    private readonly Projection dense;

    public BertPooler(BertConfig config, Device? device = null)
        : base(nameof(BertPooler))
    {
        dense = new Projection(config.HiddenSize, config.HiddenSize, kind: ProjectionKind.Head, device: device);
        RegisterComponents();
    }

    /// <param name="hidden">(B, T, C)</param>
    /// <returns>(B, C)</returns>
    public Tensor Forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        return dense.call(hidden.select(1, 0)).tanh().MoveToOuterDisposeScope();
    }
}

/// <summary>Checkpoint key rules every BERT class shares.</summary>
internal static class BertWeights
{
    /// <summary>
    /// Stored keys no class of ours needs: the position/token-type id buffers older checkpoints
    /// keep, and BertForPreTraining's next-sentence head. <paramref name="prefix"/> is "bert." for
    /// the heads and "" for the bare encoder.
    /// </summary>
    public static bool IsIgnorable(string key, string prefix) =>
        key == prefix + "embeddings.position_ids" || key == prefix + "embeddings.token_type_ids"
        || key.StartsWith("cls.seq_relationship.", StringComparison.Ordinal);

    /// <summary>
    /// Whether the checkpoint stores a pooler under <paramref name="prefix"/>: read from the
    /// safetensors headers, or, for pickled weights (no header), from the loaded keys.
    /// </summary>
    public static bool HasPooler(string directory, CheckpointShapes checkpoint, string prefix)
    {
        string key = prefix + "pooler.dense.weight";
        if (checkpoint.Shapes is { } shapes)
        {
            return shapes.ContainsKey(key);
        }

        Dictionary<string, Tensor> state = StateDictFiles.Load(directory);
        bool found = state.ContainsKey(key);
        foreach (Tensor t in state.Values)
        {
            t.Dispose();
        }

        return found;
    }

    /// <summary>
    /// The encoder's own entries (tensors or shapes) of any BERT checkpoint, keys without the
    /// <c>bert.</c> prefix: a head's checkpoint stores them under <c>bert.</c>, a bare encoder's without it.
    /// </summary>
    public static Dictionary<string, T> EncoderPart<T>(IReadOnlyDictionary<string, T> state)
    {
        const string Prefix = BertConfig.HeadEncoderPrefix;
        bool prefixed = state.Keys.Any(k => k.StartsWith(Prefix, StringComparison.Ordinal));
        var part = new Dictionary<string, T>(StringComparer.Ordinal);
        foreach (var (key, value) in state)
        {
            string inner = prefixed ? (key.StartsWith(Prefix, StringComparison.Ordinal) ? key[Prefix.Length..] : "") : key;
            if (inner.StartsWith("embeddings.", StringComparison.Ordinal) || inner.StartsWith("encoder.", StringComparison.Ordinal)
                || inner.StartsWith("pooler.", StringComparison.Ordinal))
            {
                part[inner] = value;
            }
        }

        return part;
    }
}
