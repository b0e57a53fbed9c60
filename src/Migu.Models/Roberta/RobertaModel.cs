using Migu.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Roberta;

/// <summary>
/// The RoBERTa encoder without a pooler (transformers' RobertaModel with add_pooling_layer=False,
/// as both heads use it): embeddings, then the blocks.
/// </summary>
public sealed class RobertaModel : nn.Module
{
    // Field names are the checkpoint keys.
    private readonly RobertaEmbeddings embeddings;
    private readonly RobertaEncoder encoder;

    public RobertaModel(RobertaConfig config, Device? device = null)
        : base(nameof(RobertaModel))
    {
        Config = config;
        embeddings = new RobertaEmbeddings(config, device);
        encoder = new RobertaEncoder(config, device);
        RegisterComponents();
    }

    public RobertaConfig Config { get; }

    public RobertaEmbeddings Embeddings => embeddings;

    /// <summary>
    /// Hidden states (B, T, C). The caller puts the token mask in force (<c>TokenMask.Use</c>) so
    /// the blocks' magnitudes exclude padding; <paramref name="attentionMask"/> (B, T) also hides
    /// padded keys from attention.
    /// </summary>
    public Tensor Forward(Tensor inputIds, Tensor? attentionMask)
    {
        using var scope = NewDisposeScope();
        if (inputIds.dim() != 2)
        {
            throw new MiguUserException($"RoBERTa: input ids must be (batch, tokens), got [{string.Join(", ", inputIds.shape)}]");
        }

        Tensor? keyMask = null;
        if (attentionMask is not null)
        {
            if (!attentionMask.shape.SequenceEqual(inputIds.shape))
            {
                throw new MiguUserException(
                    $"RoBERTa: attention mask [{string.Join(", ", attentionMask.shape)}] does not match input ids [{string.Join(", ", inputIds.shape)}]");
            }

            keyMask = attentionMask.ne(0).unsqueeze(1).unsqueeze(2).to(inputIds.device); // (B, 1, 1, T)
        }

        Tensor x = embeddings.Forward(inputIds); // (B, T, C)
        return encoder.Forward(x, keyMask).MoveToOuterDisposeScope();
    }
}
