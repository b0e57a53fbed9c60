using Migu.Core;
using Migu.Models.Checkpoints;
using Migu.Models.Encoders;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Roberta;

/// <summary>
/// RoBERTa with a classification head on the &lt;s&gt; token (transformers'
/// RobertaForSequenceClassification): logits (B, num_labels) and, given labels (B), the
/// cross-entropy (single-label), or the mean squared error when num_labels is 1 (regression).
/// </summary>
public sealed class RobertaForSequenceClassification : LanguageModel
{
    public const string ArchitectureName = "RobertaForSequenceClassification";

    // Field names are the checkpoint keys.
    private readonly RobertaModel roberta;
    private readonly RobertaClassificationHead classifier;

    /// <summary>A freshly initialised model (as transformers initialises one) on <paramref name="device"/>.</summary>
    public RobertaForSequenceClassification(RobertaConfig config, Device? device = null)
        : base(nameof(RobertaForSequenceClassification))
    {
        config.Validate(ArchitectureName);
        Config = config with { Architecture = ArchitectureName };
        roberta = new RobertaModel(Config, device);
        classifier = new RobertaClassificationHead(Config, device);
        RegisterComponents();
        RobertaWeights.Initialize(this, Config);
    }

    public RobertaConfig Config { get; }

    public override ModelFamily Family => RobertaFamily.Instance;

    public override long VocabSize => Config.VocabSize;

    /// <summary>Positions start after the pad id, as transformers numbers them.</summary>
    public override long? MaxPositions => Config.MaxPositionEmbeddings - Config.PadTokenId - 1;

    public override bool IsClassifier => true;

    public override IReadOnlyList<string> ClassLabels => [.. Enumerable.Range(0, (int)Config.NumLabels).Select(Config.LabelName)];

    public override string ConfigJson => Config.ToJson();

    /// <summary>Loads a saved classifier (config.json with its labels, and weights including <c>classifier.*</c>).</summary>
    public static RobertaForSequenceClassification FromPretrained(string directory, Device? device = null)
    {
        ConfigReader reader = ConfigReader.FromFile(Path.Combine(directory, ModelCheckpoint.ConfigFile));
        RobertaConfig config = RobertaConfig.FromConfig(reader);
        return ModelCheckpoint.Load(directory, config.Sizes(reader.Source), d => new RobertaForSequenceClassification(config, d), device);
    }

    /// <summary>
    /// A classifier for <paramref name="labels"/> on top of the encoder of any RoBERTa checkpoint
    /// (e.g. roberta-base's masked LM): the encoder is loaded, the head is freshly initialised,
    /// as transformers does when it reports the classifier weights as newly initialised.
    /// </summary>
    public static RobertaForSequenceClassification FromEncoder(string directory, IReadOnlyList<string> labels, Device? device = null)
    {
        if (labels.Count == 0)
        {
            throw new MiguUserException($"RoBERTa classifier for {directory}: at least one label is needed");
        }

        ConfigReader reader = ConfigReader.FromFile(Path.Combine(directory, ModelCheckpoint.ConfigFile));
        RobertaConfig saved = RobertaConfig.FromConfig(reader);
        RobertaConfig config = saved with { NumLabels = labels.Count, Id2Label = [.. labels] };
        const string Prefix = "roberta.";
        // The head is new: only the encoder is the checkpoint's to supply, checked before it is allocated.
        CheckpointShapes checkpoint = StateDictFiles.Inspect(directory);
        saved.Sizes(reader.Source).CheckAgainst(checkpoint);
        using (var meta = ModelCheckpoint.BuildOnMeta(d => new RobertaForSequenceClassification(config, d)))
        {
            ModelCheckpoint.CheckFits(meta.roberta, checkpoint, reader.Source, ignorable: key => RobertaWeights.IsIgnorable(Prefix + key), keyPrefix: Prefix);
        }

        var model = new RobertaForSequenceClassification(config, device);
        Dictionary<string, Tensor> state = StateDictFiles.Load(directory);
        try
        {
            var encoderState = state.Where(kv => kv.Key.StartsWith(Prefix, StringComparison.Ordinal))
                .ToDictionary(kv => kv.Key[Prefix.Length..], kv => kv.Value, StringComparer.Ordinal);
            StateDictBinder.Load(model.roberta, encoderState, directory, ignorable: key => RobertaWeights.IsIgnorable(Prefix + key));
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

    public override bool IsIgnorableCheckpointKey(string key) => RobertaWeights.IsIgnorable(key);

    public override ModelOutput forward(ModelBatch batch)
    {
        using var scope = NewDisposeScope();
        Tensor hidden;
        using (TokenMask.Use(batch.AttentionMask))
        {
            hidden = roberta.Forward(batch.InputIds, batch.AttentionMask); // (B, T, C)
        }

        Tensor logits;
        using (TokenMask.Use(null))
        {
            // The head sees one <s> row per sequence, none of them padding.
            logits = classifier.Forward(hidden); // (B, num_labels)
        }

        Tensor? loss = batch.Labels is null ? null : Loss(logits, batch.Labels);
        return new ModelOutput(logits.MoveToOuterDisposeScope(), loss?.MoveToOuterDisposeScope());
    }

    public override Tensor Generate(Tensor inputIds, Tensor? attentionMask, int maxNewTokens) =>
        throw new MiguUserException("RoBERTa is an encoder; it does not generate");

    private Tensor Loss(Tensor logits, Tensor labels) => SequenceClassification.Loss(logits, labels, Config.NumLabels, "RoBERTa");
}
