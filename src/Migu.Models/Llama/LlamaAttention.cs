using Migu.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Llama;

/// <summary>
/// Grouped-query self-attention: H query heads share KV key/value heads (each KV head serves
/// H / KV query heads), RoPE on queries and keys, scaled_dot_product_attention with scale
/// 1/√head_dim. Attention dropout only in training mode.
/// </summary>
internal sealed class LlamaAttention : nn.Module
{
    private readonly Projection q_proj;
    private readonly Projection k_proj;
    private readonly Projection v_proj;
    private readonly Projection o_proj;
    private readonly long heads;
    private readonly long kvHeads;
    private readonly long headDim;
    private readonly double dropout;

    public LlamaAttention(LlamaConfig config, Device? device)
        : base(nameof(LlamaAttention))
    {
        heads = config.NumAttentionHeads;
        kvHeads = config.NumKeyValueHeads;
        headDim = config.HeadDim;
        dropout = config.AttentionDropout;
        q_proj = new Projection(config.HiddenSize, heads * headDim, config.AttentionBias, ProjectionKind.Query, device);
        k_proj = new Projection(config.HiddenSize, kvHeads * headDim, config.AttentionBias, ProjectionKind.Key, device);
        v_proj = new Projection(config.HiddenSize, kvHeads * headDim, config.AttentionBias, ProjectionKind.Value, device);
        o_proj = new Projection(heads * headDim, config.HiddenSize, config.AttentionBias, ProjectionKind.AttentionOutput, device);
        RegisterComponents();
    }

    /// <summary>
    /// <paramref name="x"/> (B, T, C); <paramref name="cos"/>/<paramref name="sin"/> (B, T, D);
    /// <paramref name="mask"/> (B, 1, T, S) boolean, true = may attend, or null for plain causal
    /// attention over these T tokens (no cache). With a cache, this step's keys and values are appended.
    /// </summary>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor? mask, LlamaKvCache? cache, int layerIndex)
    {
        using var scope = NewDisposeScope();
        long b = x.shape[0];
        long t = x.shape[1];
        Tensor q = q_proj.call(x).view(b, t, heads, headDim).transpose(1, 2); // (B, H, T, D)
        Tensor k = k_proj.call(x).view(b, t, kvHeads, headDim).transpose(1, 2); // (B, KV, T, D)
        Tensor v = v_proj.call(x).view(b, t, kvHeads, headDim).transpose(1, 2); // (B, KV, T, D)
        q = LlamaRotaryEmbedding.Apply(q, cos, sin);
        k = LlamaRotaryEmbedding.Apply(k, cos, sin);
        if (cache is not null)
        {
            (k, v) = cache.Append(layerIndex, k, v); // (B, KV, S, D)
        }

        k = RepeatHeads(k); // (B, H, S, D)
        v = RepeatHeads(v);
        double p = training ? dropout : 0.0;
        bool causal = mask is null && t > 1;
        Tensor attended = nn.functional.scaled_dot_product_attention(q, k, v, mask, p, causal); // (B, H, T, D)
        Tensor merged = attended.transpose(1, 2).reshape(b, t, heads * headDim); // (B, T, H·D)
        return o_proj.call(merged).MoveToOuterDisposeScope(); // (B, T, C)
    }

    /// <summary>(B, KV, S, D) → (B, H, S, D): each key/value head repeated for its group of query heads.</summary>
    private Tensor RepeatHeads(Tensor kv)
    {
        long groups = heads / kvHeads;
        if (groups == 1)
        {
            return kv;
        }

        long[] s = kv.shape;
        return kv.unsqueeze(2).expand(s[0], kvHeads, groups, s[2], s[3]).reshape(s[0], heads, s[2], s[3]);
    }
}
