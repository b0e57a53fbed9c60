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
    private readonly T5LayerSelfAttention selfAttention;
    private readonly T5LayerCrossAttention? crossAttention;
    private readonly T5LayerFeedForward feedForward;

    public T5Block(T5Config config, bool isDecoder, bool hasRelativeBias, Device? device)
        : base("T5Block")
    {
        selfAttention = new T5LayerSelfAttention(config, hasRelativeBias, bidirectional: !isDecoder, device);
        feedForward = new T5LayerFeedForward(config, device);
        var layers = new ModuleList<nn.Module>(selfAttention);
        if (isDecoder)
        {
            crossAttention = new T5LayerCrossAttention(config, device);
            layers.Add(crossAttention);
        }

        layers.Add(feedForward);
        register_module("layer", layers);
    }

    public T5Attention SelfAttention => selfAttention.Attention;

    public T5Attention? CrossAttention => crossAttention?.Attention;

    /// <summary>Encoder block: (B, T, d_model) → same.</summary>
    public Tensor Encode(Tensor hidden, Tensor? bias)
    {
        using var scope = NewDisposeScope();
        Tensor h = selfAttention.Forward(hidden, bias, cache: null);
        return feedForward.forward(h).MoveToOuterDisposeScope();
    }

    /// <summary>Decoder block: (B, Tq, d_model) → same; cross keys/values from the encoder output.</summary>
    public Tensor Decode(Tensor hidden, Tensor? selfBias, Tensor crossKeys, Tensor crossValues, Tensor? encoderMask, T5LayerCache? cache)
    {
        using var scope = NewDisposeScope();
        Tensor h = selfAttention.Forward(hidden, selfBias, cache);
        h = crossAttention!.Forward(h, crossKeys, crossValues, encoderMask);
        return feedForward.forward(h).MoveToOuterDisposeScope();
    }

    /// <summary>Cross-attention keys and values of <paramref name="encoderHidden"/>, recorded under the encoder's token mask.</summary>
    public (Tensor Keys, Tensor Values) CrossKeysAndValues(Tensor encoderHidden, Tensor? encoderAttentionMask)
    {
        using (TokenMask.Use(encoderAttentionMask))
        {
            return crossAttention!.Attention.KeysAndValues(encoderHidden);
        }
    }
}
