using Migu.Models.Encoders;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Roberta;

/// <summary>
/// The RoBERTa encoder without a pooler (transformers' RobertaModel with add_pooling_layer=False,
/// as both heads use it): embeddings with positions counted after the pad id, then the post-LN
/// blocks BERT shares.
/// </summary>
public sealed class RobertaModel : nn.Module
{
    // Field names are the checkpoint keys.
    private readonly EncoderEmbeddings embeddings;
    private readonly EncoderBlocks encoder;

    public RobertaModel(RobertaConfig config, Device? device = null)
        : base(nameof(RobertaModel))
    {
        Config = config;
        embeddings = new EncoderEmbeddings(config, PositionScheme.AfterPadding, "RoBERTa", device);
        encoder = new EncoderBlocks(config, device);
        RegisterComponents();
    }

    public RobertaConfig Config { get; }

    public EncoderEmbeddings Embeddings => embeddings;

    /// <summary>
    /// Hidden states (B, T, C). The caller puts the token mask in force (<c>TokenMask.Use</c>) so
    /// the blocks' magnitudes exclude padding; <paramref name="attentionMask"/> (B, T) also hides
    /// padded keys from attention.
    /// </summary>
    public Tensor Forward(Tensor inputIds, Tensor? attentionMask)
    {
        using var scope = NewDisposeScope();
        Tensor? keyMask = EncoderBlocks.KeyMask(inputIds, attentionMask, "RoBERTa");
        Tensor x = embeddings.Forward(inputIds); // (B, T, C), RoBERTa uses a single segment
        return encoder.Forward(x, keyMask).MoveToOuterDisposeScope();
    }
}
