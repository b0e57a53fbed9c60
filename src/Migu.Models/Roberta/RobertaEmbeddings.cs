using Migu.Core;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Models.Roberta;

/// <summary>
/// Word + position + token-type embeddings, then LayerNorm and dropout. Positions count real
/// (non-pad) tokens from PadTokenId + 1; pad tokens take position PadTokenId, whose row, like
/// the pad word's, gets no gradient (padding_idx), as in transformers.
/// </summary>
public sealed class RobertaEmbeddings : nn.Module
{
    // Field names are the checkpoint keys.
    private readonly Embedding word_embeddings;
    private readonly Embedding position_embeddings;
    private readonly Embedding token_type_embeddings;
    private readonly LayerNorm LayerNorm;
    private readonly RobertaConfig config;

    public RobertaEmbeddings(RobertaConfig config, Device? device = null)
        : base(nameof(RobertaEmbeddings))
    {
        this.config = config;
        word_embeddings = nn.Embedding(config.VocabSize, config.HiddenSize, padding_idx: config.PadTokenId, device: device);
        position_embeddings = nn.Embedding(config.MaxPositionEmbeddings, config.HiddenSize, padding_idx: config.PadTokenId, device: device);
        token_type_embeddings = nn.Embedding(config.TypeVocabSize, config.HiddenSize, device: device);
        LayerNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps, device: device);
        RegisterComponents();
    }

    /// <summary>
    /// The word embedding matrix (V, C), which the MLM decoder shares: the registered Parameter, the
    /// very object the optimizer and MIGU's masks are keyed by (Embedding.weight makes a new wrapper
    /// of the same tensor on every read).
    /// </summary>
    public Parameter WordEmbeddingWeight => word_embeddings.get_parameter("weight")!;

    /// <summary>transformers' position ids: PadTokenId + cumulative count of real tokens, PadTokenId at pads.</summary>
    public static Tensor PositionIds(Tensor inputIds, long padTokenId)
    {
        using var scope = NewDisposeScope();
        Tensor real = inputIds.ne(padTokenId).to(ScalarType.Int64); // (B, T)
        return real.cumsum(1).mul(real).add(padTokenId).MoveToOuterDisposeScope(); // (B, T)
    }

    public Tensor Forward(Tensor inputIds)
    {
        using var scope = NewDisposeScope();
        long maxPosition = config.PadTokenId + inputIds.shape[1];
        if (maxPosition >= config.MaxPositionEmbeddings)
        {
            throw new MiguUserException(
                $"RoBERTa: a sequence of {inputIds.shape[1]} tokens needs position {maxPosition} but max_position_embeddings is {config.MaxPositionEmbeddings}");
        }

        Tensor positions = PositionIds(inputIds, config.PadTokenId); // (B, T)
        Tensor tokenTypes = zeros_like(inputIds); // (B, T), RoBERTa uses a single segment
        Tensor x = word_embeddings.call(inputIds) // (B, T, C)
            .add(token_type_embeddings.call(tokenTypes))
            .add(position_embeddings.call(positions));
        x = LayerNorm.call(x);
        x = nn.functional.dropout(x, config.HiddenDropoutProb, training);
        return x.MoveToOuterDisposeScope();
    }
}
