using Migu.Models.Blocks;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.T5;

/// <summary><c>layer.0</c>: pre-norm self-attention with a residual. Causal in the decoder (the mask says so).</summary>
internal sealed class T5LayerSelfAttention : nn.Module
{
    private readonly T5Attention SelfAttention;
    private readonly RmsNorm layer_norm;
    private readonly double dropout;

    public T5LayerSelfAttention(T5Config config, bool hasRelativeBias, bool bidirectional, Device? device)
        : base("T5LayerSelfAttention")
    {
        dropout = config.DropoutRate;
        SelfAttention = new T5Attention(config, hasRelativeBias, bidirectional, device);
        layer_norm = new RmsNorm(config.DModel, config.LayerNormEpsilon, device);
        register_module("SelfAttention", SelfAttention);
        register_module("layer_norm", layer_norm);
    }

    public T5Attention Attention => SelfAttention;

    /// <summary>
    /// (B, T, d_model) → same. <paramref name="bias"/>: position bias plus mask. With a cache, this
    /// step's keys and values are appended to it and the queries see all of them.
    /// </summary>
    public Tensor Forward(Tensor hidden, Tensor? bias, T5LayerCache? cache)
    {
        using var scope = NewDisposeScope();
        Tensor normed = layer_norm.call(hidden);
        Tensor queries = SelfAttention.Queries(normed);
        var (keys, values) = SelfAttention.KeysAndValues(normed);
        if (cache is not null)
        {
            (keys, values) = cache.AppendSelf(keys, values);
        }

        Tensor attended = SelfAttention.Attend(queries, keys, values, bias);
        return hidden.add(nn.functional.dropout(attended, dropout, training)).MoveToOuterDisposeScope();
    }
}

/// <summary><c>layer.1</c> of a decoder block: pre-norm attention over the encoder output, with a residual.</summary>
internal sealed class T5LayerCrossAttention : nn.Module
{
    private readonly T5Attention EncDecAttention;
    private readonly RmsNorm layer_norm;
    private readonly double dropout;

    public T5LayerCrossAttention(T5Config config, Device? device)
        : base("T5LayerCrossAttention")
    {
        dropout = config.DropoutRate;
        EncDecAttention = new T5Attention(config, hasRelativeBias: false, bidirectional: true, device);
        layer_norm = new RmsNorm(config.DModel, config.LayerNormEpsilon, device);
        register_module("EncDecAttention", EncDecAttention);
        register_module("layer_norm", layer_norm);
    }

    public T5Attention Attention => EncDecAttention;

    /// <summary>(B, Tq, d_model) → same, attending to <paramref name="keys"/>/<paramref name="values"/> (B, H, Tk, d_kv) of the encoder output.</summary>
    public Tensor Forward(Tensor hidden, Tensor keys, Tensor values, Tensor? encoderMask)
    {
        using var scope = NewDisposeScope();
        Tensor queries = EncDecAttention.Queries(layer_norm.call(hidden));
        Tensor attended = EncDecAttention.Attend(queries, keys, values, encoderMask); // no position bias across streams
        return hidden.add(nn.functional.dropout(attended, dropout, training)).MoveToOuterDisposeScope();
    }
}

/// <summary>The last layer of a block: pre-norm <c>DenseReluDense</c> with a residual.</summary>
internal sealed class T5LayerFeedForward : nn.Module<Tensor, Tensor>
{
    private readonly T5FeedForward DenseReluDense;
    private readonly RmsNorm layer_norm;
    private readonly double dropout;

    public T5LayerFeedForward(T5Config config, Device? device)
        : base("T5LayerFF")
    {
        dropout = config.DropoutRate;
        DenseReluDense = new T5FeedForward(config, device);
        layer_norm = new RmsNorm(config.DModel, config.LayerNormEpsilon, device);
        register_module("DenseReluDense", DenseReluDense);
        register_module("layer_norm", layer_norm);
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        Tensor forwarded = DenseReluDense.call(layer_norm.call(input));
        return input.add(nn.functional.dropout(forwarded, dropout, training)).MoveToOuterDisposeScope();
    }
}
