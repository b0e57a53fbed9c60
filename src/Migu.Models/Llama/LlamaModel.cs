using Migu.Models.Blocks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Models.Llama;

/// <summary>The decoder stack under the name <c>model</c>: embed_tokens, layers.{i}, norm.</summary>
internal sealed class LlamaModel : nn.Module
{
    private readonly LlamaTokenEmbedding embed_tokens;
    private readonly ModuleList<LlamaDecoderLayer> layers;
    private readonly RmsNorm norm;
    private readonly LlamaRotaryEmbedding rotary;

    public LlamaModel(LlamaConfig config, Parameter embeddingWeight, Device? device)
        : base(nameof(LlamaModel))
    {
        embed_tokens = new LlamaTokenEmbedding(embeddingWeight, config.PadTokenId);
        layers = new ModuleList<LlamaDecoderLayer>([.. Enumerable.Range(0, (int)config.NumHiddenLayers).Select(i => new LlamaDecoderLayer(config, i, device))]);
        norm = new RmsNorm(config.HiddenSize, config.RmsNormEps, device);
        rotary = new LlamaRotaryEmbedding(config);
        register_module("embed_tokens", embed_tokens);
        register_module("layers", layers);
        register_module("norm", norm);
    }

    public LlamaTokenEmbedding EmbedTokens => embed_tokens;

    public LlamaRotaryEmbedding Rotary => rotary;

    /// <summary>
    /// <paramref name="inputIds"/> (B, T) → final hidden states (B, T, C).
    /// <paramref name="keyMask"/> (B, S) marks real tokens among all keys (cached ones first, S = cached + T),
    /// or null for no padding; <paramref name="positionIds"/> (B, T) or (1, T).
    /// </summary>
    public Tensor Forward(Tensor inputIds, Tensor? keyMask, Tensor positionIds, LlamaKvCache? cache)
    {
        using var scope = NewDisposeScope();
        long past = cache?.Length ?? 0;
        Tensor h = embed_tokens.call(inputIds); // (B, T, C)
        (Tensor cos, Tensor sin) = rotary.CosSin(positionIds, h.dtype); // (B|1, T, D)
        Tensor? mask = AttentionMask(keyMask, inputIds.shape[0], inputIds.shape[1], past, h.device);
        foreach (LlamaDecoderLayer layer in layers)
        {
            h = layer.Forward(h, cos, sin, mask, cache);
        }

        return norm.call(h).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// (B, 1, T, S) boolean: query i (at key index past + i) may attend key j when j ≤ past + i and
    /// key j is real. A query with no key to attend (a left-padding position) attends all keys
    /// instead, so its output is finite garbage that no real token ever reads. Null when plain
    /// causal attention suffices.
    /// </summary>
    private static Tensor? AttentionMask(Tensor? keyMask, long batch, long t, long past, Device device)
    {
        if (keyMask is null && (past == 0 || t == 1))
        {
            return null;
        }

        using var scope = NewDisposeScope();
        long s = past + t;
        Tensor query = arange(past, s, ScalarType.Int64, device).unsqueeze(1); // (T, 1)
        Tensor key = arange(0L, s, ScalarType.Int64, device).unsqueeze(0); // (1, S)
        Tensor allowed = key.le(query).unsqueeze(0).expand(batch, t, s); // (B, T, S)
        if (keyMask is not null)
        {
            allowed = allowed.logical_and(keyMask.to(device).ne(0).unsqueeze(1)); // (B, T, S)
        }

        allowed = allowed.logical_or(allowed.any(-1, keepdim: true).logical_not());
        return allowed.unsqueeze(1).MoveToOuterDisposeScope();
    }
}
