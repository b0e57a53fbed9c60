using Migu.Core;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Models.Encoders;

/// <summary>How an encoder numbers positions: the one thing besides token types in which BERT's and RoBERTa's embeddings differ.</summary>
public enum PositionScheme
{
    /// <summary>BERT: 0, 1, …, T−1 for every sequence.</summary>
    Absolute,

    /// <summary>
    /// RoBERTa: real (non-pad) tokens count from PadTokenId + 1; pad tokens take position
    /// PadTokenId, whose row, like the pad word's, gets no gradient (padding_idx).
    /// </summary>
    AfterPadding,
}

/// <summary>Word + position + token-type embeddings, then LayerNorm and dropout.</summary>
public sealed class EncoderEmbeddings : nn.Module
{
    // Field names are the checkpoint keys.
    private readonly Embedding word_embeddings;
    private readonly Embedding position_embeddings;
    private readonly Embedding token_type_embeddings;
    private readonly LayerNorm LayerNorm;
    private readonly IEncoderConfig config;
    private readonly PositionScheme positions;
    private readonly string family;

    public EncoderEmbeddings(IEncoderConfig config, PositionScheme positions, string family, Device? device = null)
        : base(nameof(EncoderEmbeddings))
    {
        this.config = config;
        this.positions = positions;
        this.family = family;
        word_embeddings = nn.Embedding(config.VocabSize, config.HiddenSize, padding_idx: config.PadTokenId, device: device);
        position_embeddings = positions == PositionScheme.AfterPadding
            ? nn.Embedding(config.MaxPositionEmbeddings, config.HiddenSize, padding_idx: config.PadTokenId, device: device)
            : nn.Embedding(config.MaxPositionEmbeddings, config.HiddenSize, device: device);
        token_type_embeddings = nn.Embedding(config.TypeVocabSize, config.HiddenSize, device: device);
        LayerNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps, device: device);
        RegisterComponents();
    }

    /// <summary>
    /// The word embedding matrix (V, C), which an MLM decoder shares: the registered Parameter, the
    /// very object the optimizer and MIGU's masks are keyed by (Embedding.weight makes a new wrapper
    /// of the same tensor on every read).
    /// </summary>
    public Parameter WordEmbeddingWeight => word_embeddings.get_parameter("weight")!;

    /// <summary>transformers' RoBERTa position ids: PadTokenId + cumulative count of real tokens, PadTokenId at pads.</summary>
    public static Tensor PaddingOffsetPositionIds(Tensor inputIds, long padTokenId)
    {
        using var scope = NewDisposeScope();
        Tensor real = inputIds.ne(padTokenId).to(ScalarType.Int64); // (B, T)
        return real.cumsum(1).mul(real).add(padTokenId).MoveToOuterDisposeScope(); // (B, T)
    }

    /// <param name="inputIds">(B, T)</param>
    /// <param name="tokenTypeIds">(B, T) segment ids; null means segment 0 everywhere.</param>
    public Tensor Forward(Tensor inputIds, Tensor? tokenTypeIds = null)
    {
        using var scope = NewDisposeScope();
        long length = inputIds.shape[1];
        long highest = positions == PositionScheme.AfterPadding ? config.PadTokenId + length : length - 1;
        if (highest >= config.MaxPositionEmbeddings)
        {
            throw new MiguUserException(
                $"{family}: a sequence of {length} tokens needs position {highest} but max_position_embeddings is {config.MaxPositionEmbeddings}");
        }

        Tensor positionIds = positions == PositionScheme.AfterPadding
            ? PaddingOffsetPositionIds(inputIds, config.PadTokenId) // (B, T)
            : arange(length, dtype: ScalarType.Int64, device: inputIds.device).unsqueeze(0); // (1, T)
        if (tokenTypeIds is not null && !tokenTypeIds.shape.SequenceEqual(inputIds.shape))
        {
            throw new MiguUserException(
                $"{family}: token type ids [{string.Join(", ", tokenTypeIds.shape)}] do not match input ids [{string.Join(", ", inputIds.shape)}]");
        }

        Tensor tokenTypes = tokenTypeIds?.to(ScalarType.Int64, inputIds.device) ?? zeros_like(inputIds); // (B, T)
        Tensor x = word_embeddings.call(inputIds) // (B, T, C)
            .add(token_type_embeddings.call(tokenTypes))
            .add(position_embeddings.call(positionIds));
        x = LayerNorm.call(x);
        x = nn.functional.dropout(x, config.HiddenDropoutProb, training);
        return x.MoveToOuterDisposeScope();
    }
}

/// <summary>What BERT and RoBERTa share about their weights: transformers' initialisation of a fresh model.</summary>
internal static class EncoderWeights
{
    /// <summary>
    /// Weight matrices and embeddings from N(0, initializer_range), biases zero, LayerNorms
    /// (1, 0), and the pad row zero in every embedding that has one (the word embedding; for
    /// RoBERTa also the position embedding).
    /// </summary>
    public static void Initialize(nn.Module model, IEncoderConfig config, PositionScheme positions)
    {
        using var noGrad = no_grad();
        foreach (var (name, p) in model.named_parameters())
        {
            bool isNorm = name.Contains("LayerNorm.", StringComparison.Ordinal) || name.Contains("layer_norm.", StringComparison.Ordinal);
            if (isNorm && name.EndsWith(".weight", StringComparison.Ordinal))
            {
                p.fill_(1.0);
            }
            else if (p.dim() == 2)
            {
                p.normal_(0.0, config.InitializerRange);
                bool padRow = name.EndsWith("word_embeddings.weight", StringComparison.Ordinal)
                    || (positions == PositionScheme.AfterPadding && name.EndsWith("position_embeddings.weight", StringComparison.Ordinal));
                if (padRow)
                {
                    p[config.PadTokenId].zero_();
                }
            }
            else
            {
                p.zero_();
            }
        }
    }
}
