using System.Text.Json;
using Migu.Core;
using Migu.Core.Runtime;
using Migu.Models.Blocks;
using Migu.Models.Checkpoints;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Models.Llama;

/// <summary>
/// Llama decoder with a language-model head, parameter for parameter transformers'
/// LlamaForCausalLM: <c>model.embed_tokens</c>, <c>model.layers.{i}</c>, <c>model.norm</c> and
/// <c>lm_head</c> (shared with the embedding when tie_word_embeddings is set).
/// </summary>
public sealed partial class LlamaForCausalLM : LanguageModel
{
    private const string LmHeadWeight = "lm_head.weight";
    private const string EmbedWeight = "model.embed_tokens.weight";

    private readonly LlamaModel model;
    private readonly Projection lm_head;

    /// <summary>Builds a model with transformers' initialisation (normal(0, initializer_range), zero biases and pad row).</summary>
    public LlamaForCausalLM(LlamaConfig config, Device? device = null)
        : this(config, device, initialize: true)
    {
    }

    private LlamaForCausalLM(LlamaConfig config, Device? device, bool initialize)
        : base(nameof(LlamaForCausalLM))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate("LlamaConfig");
        Config = config;
        GenerationEosTokenIds = config.EosTokenIds;
        GenerationPadTokenId = config.GenerationPadTokenId;
        lm_head = new Projection(config.HiddenSize, config.VocabSize, hasBias: false, ProjectionKind.Head, device);
        // Tied: the embedding holds lm_head's very Parameter, so named_parameters lists it once,
        // as model.embed_tokens.weight (registered first), as transformers' state dict does.
        Parameter embedding = config.TieWordEmbeddings
            ? lm_head.Weight
            : new Parameter(empty(config.VocabSize, config.HiddenSize, device: device));
        model = new LlamaModel(config, embedding, device);
        register_module("model", model);
        register_module("lm_head", lm_head);
        if (initialize)
        {
            InitializeWeights();
        }
    }

    public LlamaConfig Config { get; }

    public override ModelFamily Family => LlamaFamily.Instance;

    public override long VocabSize => Config.VocabSize;

    public override long? MaxPositions => Config.MaxPositionEmbeddings;

    public override string ConfigJson => Config.ToJson();

    /// <summary>EOS ids generation stops at: generation_config.json's when the checkpoint has one, else config.json's.</summary>
    public IReadOnlyList<long> GenerationEosTokenIds { get; private set; }

    /// <summary>What generation writes after a row finished (pad_token_id, else the first EOS id).</summary>
    public long? GenerationPadTokenId { get; private set; }

    public override IReadOnlyDictionary<string, string[]>? CheckpointAliases => Config.TieWordEmbeddings
        ? new Dictionary<string, string[]>(StringComparer.Ordinal) { [LmHeadWeight] = [EmbedWeight], [EmbedWeight] = [LmHeadWeight] }
        : null;

    public override bool IsTiedCopy(string name) => Config.TieWordEmbeddings && name == LmHeadWeight;

    /// <summary>Old checkpoints stored the rotary inverse frequencies; we derive them from the config.</summary>
    public override bool IsIgnorableCheckpointKey(string key) => key.EndsWith("rotary_emb.inv_freq", StringComparison.Ordinal);

    /// <summary>Loads config.json (and generation_config.json when present) and the weights in <paramref name="directory"/>.</summary>
    public static LlamaForCausalLM FromPretrained(string directory, Device? device = null)
    {
        ConfigReader reader = ConfigReader.FromFile(Path.Combine(directory, ModelCheckpoint.ConfigFile));
        var config = LlamaConfig.FromConfig(reader);
        return ModelCheckpoint.Load(
            directory,
            config.Sizes(reader.Source),
            d => new LlamaForCausalLM(config, d, initialize: false),
            device,
            m => m.ReadGenerationConfig(Path.Combine(directory, "generation_config.json")));
    }

    /// <summary>Writes config.json and model.safetensors, a directory transformers' from_pretrained loads.</summary>
    public void Save(string directory) => ModelCheckpoint.Save(this, directory);

    /// <summary>Logits (B, T, V) and, with labels, the mean cross-entropy of predicting token t+1 from tokens ≤ t (−100 ignored).</summary>
    public override ModelOutput forward(ModelBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        CheckIds(batch.InputIds, batch.AttentionMask);
        using var scope = NewDisposeScope();
        Device device = lm_head.Weight.device;
        Tensor ids = batch.InputIds.to(device);
        Tensor? mask = batch.AttentionMask?.to(device);
        Tensor logits;
        using (TokenMask.Use(mask))
        {
            // Positions 0..T−1 whatever the padding, as transformers' forward without position_ids.
            Tensor positions = arange(0L, ids.shape[1], ScalarType.Int64, device).unsqueeze(0); // (1, T)
            Tensor hidden = model.Forward(ids, mask, positions, cache: null); // (B, T, C)
            logits = lm_head.call(hidden); // (B, T, V)
        }

        Tensor? loss = batch.Labels is null ? null : CausalLoss(logits, batch.Labels.to(device));
        return new ModelOutput(logits.MoveToOuterDisposeScope(), loss?.MoveToOuterDisposeScope());
    }

    /// <summary>Shifted cross-entropy in fp32: logits at t predict labels at t+1; mean over labels that are not −100.</summary>
    internal static Tensor CausalLoss(Tensor logits, Tensor labels)
    {
        using var scope = NewDisposeScope();
        long t = logits.shape[1];
        if (PerformanceLevers.On(logits.device_type).ChunkedCrossEntropy)
        {
            // The labels move left instead of the logits (the last position predicts nothing), so the
            // logits are used as they lie, with no narrowed copy of them.
            Tensor shifted = cat([labels.narrow(1, 1, t - 1).to(ScalarType.Int64), full(labels.shape[0], 1, TokenCrossEntropy.IgnoreIndex, ScalarType.Int64, labels.device)], 1);
            return TokenCrossEntropy.Mean(logits.reshape(-1, logits.shape[2]), shifted.reshape(-1)).MoveToOuterDisposeScope();
        }

        Tensor predicted = logits.narrow(1, 0, t - 1).reshape(-1, logits.shape[2]).to(ScalarType.Float32); // (B·(T−1), V)
        Tensor targets = labels.narrow(1, 1, t - 1).reshape(-1).to(ScalarType.Int64); // (B·(T−1))
        return nn.functional.cross_entropy(predicted, targets, ignore_index: -100).MoveToOuterDisposeScope();
    }

    internal LlamaModel Decoder => model;

    internal Projection LmHead => lm_head;

    private static void CheckIds(Tensor ids, Tensor? mask)
    {
        if (ids.dim() != 2 || ids.dtype != ScalarType.Int64)
        {
            throw new MiguUserException($"input ids must be a (batch, tokens) int64 tensor, got {ids.dtype} [{string.Join(", ", ids.shape)}]");
        }

        if (mask is not null && !mask.shape.SequenceEqual(ids.shape))
        {
            throw new MiguUserException($"the attention mask [{string.Join(", ", mask.shape)}] must have the input ids' shape [{string.Join(", ", ids.shape)}]");
        }
    }

    private void InitializeWeights()
    {
        using var noGrad = no_grad();
        double std = Config.InitializerRange;
        foreach (var (name, p) in named_parameters())
        {
            if (name.EndsWith("layernorm.weight", StringComparison.Ordinal) || name == "model.norm.weight")
            {
                continue; // RMSNorm weights start at one
            }

            if (name.EndsWith(".bias", StringComparison.Ordinal))
            {
                p.zero_();
            }
            else
            {
                p.normal_(0.0, std);
            }
        }

        if (Config.PadTokenId is long pad && pad >= 0 && pad < Config.VocabSize && model.EmbedTokens.Weight.device_type != DeviceType.META)
        {
            model.EmbedTokens.Weight[pad].zero_();
        }
    }

    private void ReadGenerationConfig(string path)
    {
        if (!File.Exists(path))
        {
            return;
        }

        var reader = ConfigReader.FromFile(path);
        if (reader.Root.TryGetProperty("eos_token_id", out JsonElement eos))
        {
            try
            {
                GenerationEosTokenIds = eos.ValueKind switch
                {
                    JsonValueKind.Null => [],
                    JsonValueKind.Array => [.. eos.EnumerateArray().Select(e => e.GetInt64())],
                    _ => [eos.GetInt64()],
                };
            }
            catch (Exception e) when (e is InvalidOperationException or FormatException)
            {
                throw new CheckpointException($"{path}: 'eos_token_id' must be an integer or a list of integers", e);
            }
        }

        GenerationPadTokenId = reader.LongOrFirst("pad_token_id") ?? Config.PadTokenId ?? (GenerationEosTokenIds.Count > 0 ? GenerationEosTokenIds[0] : null);
    }
}
