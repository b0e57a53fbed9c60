using Migu.Core;
using Migu.Models.Blocks;
using Migu.Models.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.T5;

/// <summary>
/// T5 encoder–decoder with a language-model head, parameter names as transformers'
/// T5ForConditionalGeneration: <c>shared</c>, <c>encoder.block.{i}.layer.{j}…</c>,
/// <c>decoder.block.{i}.layer.{j}…</c>, <c>lm_head</c>. With tied embeddings the head's weight is
/// <c>shared.weight</c>; the head is still a <see cref="Projection"/> (kind Head), so MIGU can record it.
/// </summary>
public sealed partial class T5ForConditionalGeneration : LanguageModel
{
    private const long IgnoreIndex = -100;

    private readonly T5SharedEmbedding shared;
    private readonly T5Stack encoder;
    private readonly T5Stack decoder;
    private readonly Projection lm_head;

    public T5ForConditionalGeneration(T5Config config, Device? device = null)
        : base(nameof(T5ForConditionalGeneration))
    {
        ArgumentNullException.ThrowIfNull(config);
        config.Validate("T5 config");
        Config = config;
        lm_head = new Projection(config.DModel, config.VocabSize, hasBias: false, ProjectionKind.Head, device);
        shared = config.TieWordEmbeddings ? new T5SharedEmbedding(lm_head) : new T5SharedEmbedding(config.VocabSize, config.DModel, device);
        encoder = new T5Stack(config, isDecoder: false, device);
        decoder = new T5Stack(config, isDecoder: true, device);
        // Registration order is the state-dict order; "shared" comes first, so a tied head's weight is listed as shared.weight.
        register_module("shared", shared);
        register_module("encoder", encoder);
        register_module("decoder", decoder);
        register_module("lm_head", lm_head);
        ResetParameters();
    }

    public T5Config Config { get; }

    public override ModelFamily Family => T5Family.Instance;

    public override long VocabSize => Config.VocabSize;

    public override string ConfigJson => Config.ToJson();

    public override IReadOnlyDictionary<string, string[]>? CheckpointAliases => Config.TieWordEmbeddings
        ? new Dictionary<string, string[]> { ["shared.weight"] = ["encoder.embed_tokens.weight", "decoder.embed_tokens.weight", "lm_head.weight"] }
        : new Dictionary<string, string[]> { ["shared.weight"] = ["encoder.embed_tokens.weight", "decoder.embed_tokens.weight"] };

    /// <summary>
    /// The original t5-small/base/large checkpoints carry a relative bias for the first cross-attention
    /// that transformers never uses (it skips the key too).
    /// </summary>
    public override bool IsIgnorableCheckpointKey(string key) =>
        key == "decoder.block.0.layer.1.EncDecAttention.relative_attention_bias.weight";

    /// <summary>The stacks' embed_tokens are the shared table; a tied head is too.</summary>
    public override bool IsTiedCopy(string name) =>
        name is "encoder.embed_tokens.weight" or "decoder.embed_tokens.weight" || (Config.TieWordEmbeddings && name == "lm_head.weight");

    /// <summary>
    /// transformers' T5 initialisation (initializer_factor 1): N(0, 1) embeddings and untied head, the
    /// attention and FFN weights N(0, 1/√fan_in) except q, which also carries T5's missing 1/√d_kv
    /// score scaling (N(0, 1/√(d_model·d_kv))), relative biases N(0, 1/√d_model), norms 1.
    /// </summary>
    public void ResetParameters()
    {
        using var noGrad = no_grad();
        foreach (var (name, p) in named_parameters())
        {
            double std = name switch
            {
                "shared.weight" or "lm_head.weight" => 1.0,
                _ when name.EndsWith(".q.weight", StringComparison.Ordinal) => Math.Pow(Config.DModel * Config.DKv, -0.5),
                _ when name.EndsWith("relative_attention_bias.weight", StringComparison.Ordinal) => Math.Pow(Config.DModel, -0.5),
                _ when name.EndsWith("layer_norm.weight", StringComparison.Ordinal) => 0.0,
                _ => Math.Pow(p.shape[^1], -0.5), // k, v: d_model; o: H·d_kv; wi*: d_model; wo: d_ff
            };
            if (std == 0.0)
            {
                p.fill_(1.0);
            }
            else
            {
                nn.init.normal_(p, 0.0, std);
            }
        }
    }

    /// <summary>Loads a transformers checkpoint directory (config.json + weights) onto <paramref name="device"/>, in eval mode.</summary>
    public static T5ForConditionalGeneration FromPretrained(string directory, Device? device = null)
    {
        ConfigReader reader = ConfigReader.FromFile(Path.Combine(directory, ModelCheckpoint.ConfigFile));
        T5Config config = T5Config.FromConfig(reader);
        return ModelCheckpoint.Load(directory, config.Sizes(reader.Source), d => new T5ForConditionalGeneration(config, d), device);
    }

    /// <summary>Writes config.json and model.safetensors as transformers' save_pretrained lays them out.</summary>
    public void Save(string directory) => ModelCheckpoint.Save(this, directory);

    /// <summary>
    /// Teacher-forced pass. Decoder inputs are <see cref="ModelBatch.DecoderInputIds"/>, or the labels
    /// shifted right. Logits (B, T_dec, V); the loss is the mean cross-entropy over labels ≠ −100.
    /// </summary>
    public override ModelOutput forward(ModelBatch batch)
    {
        ArgumentNullException.ThrowIfNull(batch);
        using var scope = NewDisposeScope();
        Tensor decoderIds = batch.DecoderInputIds
            ?? (batch.Labels is null
                ? throw new MiguUserException("T5 needs DecoderInputIds or Labels (the decoder inputs are the labels shifted right)")
                : ShiftRight(batch.Labels, Config.DecoderStartTokenId, Config.PadTokenId));
        Tensor encoderHidden = Encode(batch.InputIds, batch.AttentionMask);
        Tensor logits;
        using (TokenMask.Use(batch.DecoderAttentionMask))
        {
            Tensor hidden = decoder.Decode(shared.call(decoderIds), batch.DecoderAttentionMask, encoderHidden, batch.AttentionMask);
            logits = Head(hidden); // (B, T_dec, V)
        }

        Tensor? loss = null;
        if (batch.Labels is not null)
        {
            // In fp32 whatever the weights' dtype, as autocast does for cross-entropy.
            loss = TokenCrossEntropy.Mean(logits.reshape(-1, logits.shape[^1]), batch.Labels.reshape(-1));
            loss.MoveToOuterDisposeScope();
        }

        return new ModelOutput(logits.MoveToOuterDisposeScope(), loss);
    }

    /// <summary>transformers' _shift_right: start token, then the labels but the last, −100 replaced by pad.</summary>
    internal static Tensor ShiftRight(Tensor labels, long decoderStartTokenId, long padTokenId)
    {
        using var scope = NewDisposeScope();
        Tensor ids = labels.to(ScalarType.Int64);
        Tensor start = full(ids.shape[0], 1, decoderStartTokenId, dtype: ScalarType.Int64, device: ids.device);
        Tensor shifted = cat([start, ids[.., ..^1]], 1);
        return shifted.masked_fill(shifted.eq(IgnoreIndex), padTokenId).MoveToOuterDisposeScope();
    }

    /// <summary>Encoder output (B, T, d_model), its projections recording under the input's padding mask.</summary>
    private Tensor Encode(Tensor inputIds, Tensor? attentionMask)
    {
        using (TokenMask.Use(attentionMask))
        {
            return encoder.Encode(shared.call(inputIds), attentionMask);
        }
    }

    /// <summary>Decoder output → logits; v1.0 (tied) checkpoints scale it by d_model^-½ first.</summary>
    private Tensor Head(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        Tensor h = Config.ScalesDecoderOutput ? hidden.mul(Math.Pow(Config.DModel, -0.5)) : hidden;
        return lm_head.call(h).MoveToOuterDisposeScope();
    }
}
