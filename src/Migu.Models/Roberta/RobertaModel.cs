using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Models.Roberta;

/// <summary>The stack of encoder blocks (transformers' RobertaEncoder, blocks under <c>layer.{i}</c>).</summary>
public sealed class RobertaEncoder : nn.Module
{
    // Field name is the checkpoint key.
    private readonly ModuleList<RobertaLayer> layer;

    public RobertaEncoder(RobertaConfig config, Device? device = null)
        : base(nameof(RobertaEncoder))
    {
        layer = new ModuleList<RobertaLayer>();
        for (long i = 0; i < config.NumHiddenLayers; i++)
        {
            layer.append(new RobertaLayer(config, device));
        }

        RegisterComponents();
    }

    public Tensor Forward(Tensor hidden, Tensor? keyMask)
    {
        Tensor x = hidden;
        foreach (RobertaLayer block in layer)
        {
            using var scope = NewDisposeScope();
            x = block.Forward(x, keyMask).MoveToOuterDisposeScope(); // (B, T, C)
        }

        return x;
    }
}

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
            throw new Migu.Core.MiguUserException($"RoBERTa: input ids must be (batch, tokens), got [{string.Join(", ", inputIds.shape)}]");
        }

        Tensor? keyMask = null;
        if (attentionMask is not null)
        {
            if (!attentionMask.shape.SequenceEqual(inputIds.shape))
            {
                throw new Migu.Core.MiguUserException(
                    $"RoBERTa: attention mask [{string.Join(", ", attentionMask.shape)}] does not match input ids [{string.Join(", ", inputIds.shape)}]");
            }

            keyMask = attentionMask.ne(0).unsqueeze(1).unsqueeze(2).to(inputIds.device); // (B, 1, 1, T)
        }

        Tensor x = embeddings.Forward(inputIds); // (B, T, C)
        return encoder.Forward(x, keyMask).MoveToOuterDisposeScope();
    }
}
