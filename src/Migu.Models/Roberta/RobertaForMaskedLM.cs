using Migu.Core;
using Migu.Models.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Roberta;

/// <summary>
/// RoBERTa with its masked-LM head (transformers' RobertaForMaskedLM): logits (B, T, V) and,
/// given labels, the mean cross-entropy over positions whose label is not −100.
/// </summary>
public sealed class RobertaForMaskedLM : LanguageModel
{
    public const string ArchitectureName = "RobertaForMaskedLM";

    // Field names are the checkpoint keys.
    private readonly RobertaModel roberta;
    private readonly RobertaLMHead lm_head;

    /// <summary>A freshly initialised model (as transformers initialises one) on <paramref name="device"/>.</summary>
    public RobertaForMaskedLM(RobertaConfig config, Device? device = null)
        : base(nameof(RobertaForMaskedLM))
    {
        config.Validate(ArchitectureName);
        Config = config with { Architecture = ArchitectureName };
        roberta = new RobertaModel(Config, device);
        lm_head = new RobertaLMHead(Config, () => roberta.Embeddings.WordEmbeddingWeight, device);
        RegisterComponents();
        RobertaWeights.Initialize(this, Config);
    }

    public RobertaConfig Config { get; }

    public override ModelFamily Family => RobertaFamily.Instance;

    public override long VocabSize => Config.VocabSize;

    /// <summary>Positions start after the pad id, as transformers numbers them.</summary>
    public override long? MaxPositions => Config.MaxPositionEmbeddings - Config.PadTokenId - 1;

    public override string ConfigJson => Config.ToJson();

    /// <summary>
    /// The decoder is tied to the word embedding and its bias is lm_head.bias; checkpoints may
    /// still store either under the decoder's name (older transformers wrote both).
    /// </summary>
    public override IReadOnlyDictionary<string, string[]>? CheckpointAliases { get; } = new Dictionary<string, string[]>(StringComparer.Ordinal)
    {
        ["roberta.embeddings.word_embeddings.weight"] = ["lm_head.decoder.weight"],
        ["lm_head.bias"] = ["lm_head.decoder.bias"],
    };

    /// <summary>Loads config.json and the weights (safetensors or .bin, sharded or not) from a Hugging Face directory.</summary>
    public static RobertaForMaskedLM FromPretrained(string directory, Device? device = null)
    {
        ConfigReader reader = ConfigReader.FromFile(Path.Combine(directory, ModelCheckpoint.ConfigFile));
        RobertaConfig config = RobertaConfig.FromConfig(reader);
        return ModelCheckpoint.Load(directory, config.Sizes(reader.Source), d => new RobertaForMaskedLM(config, d), device);
    }

    public override bool IsIgnorableCheckpointKey(string key) => RobertaWeights.IsIgnorable(key);

    public override ModelOutput forward(ModelBatch batch)
    {
        using var scope = NewDisposeScope();
        Tensor logits;
        using (TokenMask.Use(batch.AttentionMask))
        {
            Tensor hidden = roberta.Forward(batch.InputIds, batch.AttentionMask); // (B, T, C)
            logits = lm_head.Forward(hidden); // (B, T, V)
        }

        Tensor? loss = null;
        if (batch.Labels is not null)
        {
            if (!batch.Labels.shape.SequenceEqual(batch.InputIds.shape))
            {
                throw new MiguUserException(
                    $"RoBERTa MLM: labels [{string.Join(", ", batch.Labels.shape)}] must match input ids [{string.Join(", ", batch.InputIds.shape)}]");
            }

            Tensor targets = batch.Labels.to(ScalarType.Int64, logits.device).reshape(-1); // (B·T)
            loss = nn.functional.cross_entropy(logits.reshape(-1, Config.VocabSize), targets, ignore_index: -100);
        }

        return new ModelOutput(logits.MoveToOuterDisposeScope(), loss?.MoveToOuterDisposeScope());
    }

    public override Tensor Generate(Tensor inputIds, Tensor? attentionMask, int maxNewTokens) =>
        throw new MiguUserException("RoBERTa is an encoder; it does not generate");
}
