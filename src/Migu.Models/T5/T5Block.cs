using Migu.Core;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Models.T5;

/// <summary>
/// One block, its sub-layers under <c>layer.{i}</c>: encoder [self-attention, FFN]; decoder
/// [causal self-attention, cross-attention, FFN].
/// </summary>
internal sealed class T5Block : nn.Module
{
    // The only module field: TorchSharp also registers module-typed fields under their C# names, so
    // the sub-layers are reached through the list, whose entries are named 0, 1, 2 as in transformers.
    private readonly ModuleList<nn.Module> layer;

    public T5Block(T5Config config, bool isDecoder, bool hasRelativeBias, Device? device)
        : base("T5Block")
    {
        layer = new ModuleList<nn.Module>(new T5LayerSelfAttention(config, hasRelativeBias, bidirectional: !isDecoder, device));
        if (isDecoder)
        {
            layer.Add(new T5LayerCrossAttention(config, device));
        }

        layer.Add(new T5LayerFeedForward(config, device));
        register_module("layer", layer);
    }

    private T5LayerSelfAttention SelfLayer => (T5LayerSelfAttention)layer[0];

    private T5LayerCrossAttention? CrossLayer => layer.Count == 3 ? (T5LayerCrossAttention)layer[1] : null;

    private T5LayerFeedForward FeedForwardLayer => (T5LayerFeedForward)layer[^1];

    public T5Attention SelfAttention => SelfLayer.Attention;

    public T5Attention? CrossAttention => CrossLayer?.Attention;

    /// <summary>Encoder block: (B, T, d_model) → same.</summary>
    public Tensor Encode(Tensor hidden, Tensor? bias)
    {
        using var scope = NewDisposeScope();
        Tensor h = SelfLayer.Forward(hidden, bias, cache: null);
        return FeedForwardLayer.call(h).MoveToOuterDisposeScope();
    }

    /// <summary>Decoder block: (B, Tq, d_model) → same; cross keys/values from the encoder output.</summary>
    public Tensor Decode(Tensor hidden, Tensor? selfBias, Tensor crossKeys, Tensor crossValues, Tensor? encoderMask, T5LayerCache? cache)
    {
        using var scope = NewDisposeScope();
        Tensor h = SelfLayer.Forward(hidden, selfBias, cache);
        h = CrossLayer!.Forward(h, crossKeys, crossValues, encoderMask);
        return FeedForwardLayer.call(h).MoveToOuterDisposeScope();
    }

    /// <summary>Cross-attention keys and values of <paramref name="encoderHidden"/>, recorded under the encoder's token mask.</summary>
    public (Tensor Keys, Tensor Values) CrossKeysAndValues(Tensor encoderHidden, Tensor? encoderAttentionMask)
    {
        using (TokenMask.Use(encoderAttentionMask))
        {
            return CrossLayer!.Attention.KeysAndValues(encoderHidden);
        }
    }
}
