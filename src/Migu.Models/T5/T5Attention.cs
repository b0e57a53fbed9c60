using Migu.Core;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Models.T5;

/// <summary>
/// T5 multi-head attention: q, k, v, o without bias and scores that are not scaled by 1/√d_kv. The
/// first layer of each stack also owns <c>relative_attention_bias</c> (buckets × heads), whose bias
/// every layer of the stack adds.
/// </summary>
internal sealed class T5Attention : nn.Module
{
    private readonly Projection q;
    private readonly Projection k;
    private readonly Projection v;
    private readonly Projection o;
    private readonly Embedding? relative_attention_bias;
    private readonly long heads;
    private readonly long dKv;
    private readonly double dropout;
    private readonly bool bidirectional;
    private readonly long numBuckets;
    private readonly long maxDistance;

    public T5Attention(T5Config config, bool hasRelativeBias, bool bidirectional, Device? device)
        : base("T5Attention")
    {
        heads = config.NumHeads;
        dKv = config.DKv;
        dropout = config.DropoutRate;
        this.bidirectional = bidirectional;
        numBuckets = config.RelativeAttentionNumBuckets;
        maxDistance = config.RelativeAttentionMaxDistance;
        q = new Projection(config.DModel, config.InnerDim, hasBias: false, ProjectionKind.Query, device);
        k = new Projection(config.DModel, config.InnerDim, hasBias: false, ProjectionKind.Key, device);
        v = new Projection(config.DModel, config.InnerDim, hasBias: false, ProjectionKind.Value, device);
        o = new Projection(config.InnerDim, config.DModel, hasBias: false, ProjectionKind.AttentionOutput, device);
        register_module("q", q);
        register_module("k", k);
        register_module("v", v);
        register_module("o", o);
        if (hasRelativeBias)
        {
            relative_attention_bias = nn.Embedding(numBuckets, heads, device: device);
            register_module("relative_attention_bias", relative_attention_bias);
        }
    }

    /// <summary>
    /// The position bias (1, H, Tq, Tk) for queries at positions <paramref name="queryStart"/>… and
    /// keys at 0…<paramref name="keyLength"/>−1 (the query start is the cache length when decoding).
    /// </summary>
    public Tensor ComputeBias(long queryStart, long queryLength, long keyLength)
    {
        if (relative_attention_bias is null)
        {
            throw new InvalidOperationException("only the first layer of a T5 stack owns the relative attention bias");
        }

        using var scope = NewDisposeScope();
        Device device = relative_attention_bias.weight!.device;
        Tensor context = arange(queryStart, queryStart + queryLength, dtype: ScalarType.Int64, device: device).unsqueeze(1); // (Tq, 1)
        Tensor memory = arange(keyLength, dtype: ScalarType.Int64, device: device).unsqueeze(0); // (1, Tk)
        Tensor buckets = T5RelativePosition.Bucket(memory.sub(context), bidirectional, numBuckets, maxDistance); // (Tq, Tk)
        Tensor values = relative_attention_bias.call(buckets); // (Tq, Tk, H)
        return values.permute(2, 0, 1).unsqueeze(0).MoveToOuterDisposeScope(); // (1, H, Tq, Tk)
    }

    /// <summary>(B, T, d_model) → (B, H, T, d_kv) queries.</summary>
    public Tensor Queries(Tensor hidden) => SplitHeads(q.call(hidden));

    /// <summary>(B, T, d_model) → keys and values, each (B, H, T, d_kv).</summary>
    public (Tensor Keys, Tensor Values) KeysAndValues(Tensor hidden) => (SplitHeads(k.call(hidden)), SplitHeads(v.call(hidden)));

    /// <summary>
    /// softmax(q·kᵀ + bias)·v through o. <paramref name="bias"/> is the position bias plus the additive
    /// mask, broadcastable to (B, H, Tq, Tk), or null. Returns (B, Tq, d_model).
    /// </summary>
    public Tensor Attend(Tensor queries, Tensor keys, Tensor values, Tensor? bias)
    {
        using var scope = NewDisposeScope();
        Tensor? mask = bias?.to(queries.dtype);
        // T5 folds 1/√d_kv into its initialisation, so its scores are not scaled. TorchSharp's SDPA has
        // no scale argument and divides by √d_kv; multiplying the queries by √d_kv cancels that.
        Tensor unscaled = queries.mul(Math.Sqrt(dKv));
        Tensor context = nn.functional.scaled_dot_product_attention(
            unscaled, keys, values, mask, training ? dropout : 0.0, false); // (B, H, Tq, d_kv)
        long batch = context.shape[0];
        long length = context.shape[2];
        Tensor merged = context.transpose(1, 2).reshape(batch, length, heads * dKv); // (B, Tq, H·d_kv)
        return o.call(merged).MoveToOuterDisposeScope();
    }

    private Tensor SplitHeads(Tensor projected)
    {
        using var scope = NewDisposeScope();
        long batch = projected.shape[0];
        long length = projected.shape[1];
        return projected.view(batch, length, heads, dKv).transpose(1, 2).MoveToOuterDisposeScope(); // (B, H, T, d_kv)
    }
}
