using Migu.Core;
using Migu.Models.Checkpoints;
using Migu.Models.Encoders;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Bert;

/// <summary>
/// BERT with a sequence classifier (transformers' BertForSequenceClassification): pooled state →
/// dropout → classifier, logits (B, num_labels) and, given labels (B), the cross-entropy
/// (single-label) or the mean squared error when num_labels is 1. The pooled state is the
/// pooler's (transformers) or the masked mean of the last hidden state (<see cref="ClassifierPooling.Mean"/>).
/// </summary>
/// <remarks>
/// The classifier is <see cref="ProjectionKind.Head"/>: MIGU's block selections leave it and
/// "head" names it. It sees one row per sequence, so no token mask applies to it (nor to the pooler).
/// </remarks>
public sealed class BertForSequenceClassification : LanguageModel
{
    public const string ArchitectureName = "BertForSequenceClassification";

    // Field names are the checkpoint keys.
    private readonly BertModel bert;
    private readonly Projection classifier;
    private readonly double dropout;

    /// <summary>A freshly initialised model (as transformers initialises one) on <paramref name="device"/>.</summary>
    public BertForSequenceClassification(BertConfig config, Device? device = null)
        : base(nameof(BertForSequenceClassification))
    {
        config.Validate(ArchitectureName);
        Config = config with { Architecture = ArchitectureName };
        bert = new BertModel(Config, addPoolingLayer: Config.ClassifierPooling == ClassifierPooling.Pooler, device);
        classifier = new Projection(Config.HiddenSize, Config.NumLabels, kind: ProjectionKind.Head, device: device);
        dropout = Config.ClassifierDropout ?? Config.HiddenDropoutProb;
        RegisterComponents();
        Encoders.EncoderWeights.Initialize(this, Config, Encoders.PositionScheme.Absolute);
    }

    public BertConfig Config { get; }

    public BertModel Bert => bert;

    public override ModelFamily Family => BertFamily.Instance;

    public override long VocabSize => Config.VocabSize;

    /// <summary>Learned absolute positions: a sequence holds at most max_position_embeddings tokens.</summary>
    public override long? MaxPositions => Config.MaxPositionEmbeddings;

    public override bool IsClassifier => true;

    public override IReadOnlyList<string> ClassLabels => [.. Enumerable.Range(0, (int)Config.NumLabels).Select(Config.LabelName)];

    public override string ConfigJson => Config.ToJson();

    /// <summary>Loads a saved classifier (config.json with its labels, and weights including <c>classifier.*</c>).</summary>
    public static BertForSequenceClassification FromPretrained(string directory, Device? device = null)
    {
        ConfigReader reader = ConfigReader.FromFile(Path.Combine(directory, ModelCheckpoint.ConfigFile));
        BertConfig config = BertConfig.FromConfig(reader);
        return ModelCheckpoint.Load(directory, config.Sizes(reader.Source, BertConfig.HeadEncoderPrefix), d => new BertForSequenceClassification(config, d), device);
    }

    /// <summary>
    /// A classifier for <paramref name="labels"/> on the encoder of any BERT checkpoint (a bare
    /// encoder such as an imported MiniLM, a masked LM, another classifier): the encoder is loaded,
    /// the classifier (and a pooler the checkpoint lacks) freshly initialised, as transformers does
    /// when it reports those weights as newly initialised. The saved config's sizes and the
    /// encoder's keys and shapes are checked against the checkpoint before the model is allocated.
    /// </summary>
    public static BertForSequenceClassification FromEncoder(
        string directory, IReadOnlyList<string> labels, ClassifierPooling pooling = ClassifierPooling.Pooler, Device? device = null)
    {
        if (labels.Count == 0)
        {
            throw new MiguUserException($"BERT classifier for {directory}: at least one label is needed");
        }

        ConfigReader reader = ConfigReader.FromFile(Path.Combine(directory, ModelCheckpoint.ConfigFile));
        BertConfig saved = BertConfig.FromConfig(reader);
        BertConfig config = saved with { NumLabels = labels.Count, Id2Label = [.. labels], ClassifierPooling = pooling };
        CheckpointShapes checkpoint = StateDictFiles.Inspect(directory);
        saved.Sizes(reader.Source, BertConfig.EncoderPrefixOf(checkpoint)).CheckAgainst(checkpoint);
        using (var meta = ModelCheckpoint.BuildOnMeta(d => new BertForSequenceClassification(config, d)))
        {
            if (checkpoint.Shapes is { } shapes)
            {
                var view = EncoderState(meta.bert, BertWeights.EncoderPart(shapes), t => (IReadOnlyList<long>)t.shape);
                StateDictBinder.Check(meta.bert, view, checkpoint.Source, ignorable: EncoderIgnorable);
            }
            else
            {
                ModelCheckpoint.CheckFits(meta, checkpoint, reader.Source);
            }
        }

        var model = new BertForSequenceClassification(config, device);
        Dictionary<string, Tensor> state = StateDictFiles.Load(directory);
        try
        {
            StateDictBinder.Load(model.bert, EncoderState(model.bert, BertWeights.EncoderPart(state), t => t), directory, ignorable: EncoderIgnorable);
        }
        catch
        {
            model.Dispose();
            throw;
        }
        finally
        {
            foreach (Tensor t in state.Values)
            {
                t.Dispose();
            }
        }

        return model;
    }

    /// <summary>
    /// The checkpoint's encoder entries as the encoder binds them: the pooler is the checkpoint's when
    /// it has one and the model builds one; otherwise the model's own fresh pooler stands in for it.
    /// </summary>
    private static Dictionary<string, T> EncoderState<T>(BertModel encoder, Dictionary<string, T> part, Func<Tensor, T> own)
    {
        foreach (var (name, fresh) in encoder.named_parameters())
        {
            if (name.StartsWith("pooler.", StringComparison.Ordinal))
            {
                part.TryAdd(name, own(fresh));
            }
        }

        return part;
    }

    /// <summary>An encoder checkpoint's keys a classifier may leave unused: id buffers, and a pooler a mean-pooling classifier does not build.</summary>
    private static bool EncoderIgnorable(string key) =>
        BertWeights.IsIgnorable(key, prefix: "") || key.StartsWith("pooler.", StringComparison.Ordinal);

    /// <summary>A mean-pooling classifier builds no pooler, so a checkpoint's pooler is skipped.</summary>
    public override bool IsIgnorableCheckpointKey(string key) =>
        BertWeights.IsIgnorable(key, prefix: "bert.")
        || (Config.ClassifierPooling == ClassifierPooling.Mean && key.StartsWith("bert.pooler.", StringComparison.Ordinal));

    public override ModelOutput forward(ModelBatch batch)
    {
        using var scope = NewDisposeScope();
        Tensor hidden;
        using (TokenMask.Use(batch.AttentionMask))
        {
            hidden = bert.Encode(batch.InputIds, batch.AttentionMask); // (B, T, C)
        }

        Tensor logits;
        using (TokenMask.Use(null))
        {
            Tensor pooled = Config.ClassifierPooling == ClassifierPooling.Mean
                ? BertModel.MeanPool(hidden, batch.AttentionMask)
                : bert.Pool(hidden); // (B, C)
            logits = classifier.call(nn.functional.dropout(pooled, dropout, training)); // (B, num_labels)
        }

        Tensor? loss = batch.Labels is null ? null : Loss(logits, batch.Labels);
        return new ModelOutput(logits.MoveToOuterDisposeScope(), loss?.MoveToOuterDisposeScope());
    }

    public override Tensor Generate(Tensor inputIds, Tensor? attentionMask, int maxNewTokens) =>
        throw new MiguUserException("BERT is an encoder; it does not generate");

    private Tensor Loss(Tensor logits, Tensor labels) => SequenceClassification.Loss(logits, labels, Config.NumLabels, "BERT");
}
