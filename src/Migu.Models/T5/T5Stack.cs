using Migu.Models.Blocks;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Models.T5;

/// <summary>
/// <c>encoder</c> or <c>decoder</c>: <c>block.{i}</c> and <c>final_layer_norm</c>. The embedding is the
/// model's <c>shared</c> table, applied by the caller. Block 0's self-attention owns the relative
/// position bias; it is computed once per pass and added in every block.
/// </summary>
internal sealed class T5Stack : nn.Module
{
    private readonly ModuleList<T5Block> block;
    private readonly RmsNorm final_layer_norm;
    private readonly double dropout;
    private readonly bool isDecoder;

    public T5Stack(T5Config config, bool isDecoder, Device? device)
        : base(isDecoder ? "decoder" : "encoder")
    {
        this.isDecoder = isDecoder;
        dropout = config.DropoutRate;
        long count = isDecoder ? config.NumDecoderLayers : config.NumLayers;
        block = new ModuleList<T5Block>();
        for (long i = 0; i < count; i++)
        {
            block.Add(new T5Block(config, isDecoder, hasRelativeBias: i == 0, device));
        }

        final_layer_norm = new RmsNorm(config.DModel, config.LayerNormEpsilon, device);
        register_module("block", block);
        register_module("final_layer_norm", final_layer_norm);
    }

    public int Count => block.Count;

    /// <summary>Encoder: embeddings (B, T, d_model) and mask (B, T) → hidden states (B, T, d_model).</summary>
    public Tensor Encode(Tensor embeddings, Tensor? attentionMask)
    {
        using var scope = NewDisposeScope();
        long length = embeddings.shape[1];
        Tensor bias = block[0].SelfAttention.ComputeBias(0, length, length); // (1, H, T, T)
        if (attentionMask is not null)
        {
            bias = bias.add(T5Masks.Padding(attentionMask, embeddings.dtype)); // (B, H, T, T)
        }

        Tensor h = nn.functional.dropout(embeddings, dropout, training);
        foreach (T5Block b in block)
        {
            h = b.Encode(h, bias);
        }

        return nn.functional.dropout(final_layer_norm.call(h), dropout, training).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Decoder over a whole sequence (teacher forcing): embeddings (B, T, d_model), its padding mask or
    /// null, the encoder output and its mask → hidden states (B, T, d_model) after the final norm.
    /// </summary>
    public Tensor Decode(Tensor embeddings, Tensor? decoderMask, Tensor encoderHidden, Tensor? encoderMask)
    {
        using var scope = NewDisposeScope();
        long length = embeddings.shape[1];
        Tensor selfBias = block[0].SelfAttention.ComputeBias(0, length, length)
            .add(T5Masks.Causal(length, decoderMask, embeddings.dtype, embeddings.device)); // (B|1, H, T, T)
        Tensor? crossMask = encoderMask is null ? null : T5Masks.Padding(encoderMask, embeddings.dtype); // (B, 1, 1, T_enc)
        Tensor h = nn.functional.dropout(embeddings, dropout, training);
        foreach (T5Block b in block)
        {
            var (keys, values) = b.CrossKeysAndValues(encoderHidden, encoderMask);
            h = b.Decode(h, selfBias, keys, values, crossMask, cache: null);
        }

        return nn.functional.dropout(final_layer_norm.call(h), dropout, training).MoveToOuterDisposeScope();
    }

    /// <summary>A cache per block holding the cross-attention keys/values of the encoder output.</summary>
    public T5LayerCache[] CreateCaches(Tensor encoderHidden, Tensor? encoderMask)
    {
        var caches = new T5LayerCache[block.Count];
        for (int i = 0; i < block.Count; i++)
        {
            var (keys, values) = block[i].CrossKeysAndValues(encoderHidden, encoderMask);
            caches[i] = new T5LayerCache(keys.DetachFromDisposeScope(), values.DetachFromDisposeScope());
        }

        return caches;
    }

    /// <summary>
    /// One generation step: embeddings (B, 1, d_model) of the newest token at position = cache length.
    /// Earlier positions come from the caches, so no causal mask is needed.
    /// </summary>
    public Tensor DecodeStep(Tensor embeddings, Tensor? encoderMask, T5LayerCache[] caches)
    {
        using var scope = NewDisposeScope();
        long position = caches[0].Length;
        long length = embeddings.shape[1];
        Tensor selfBias = block[0].SelfAttention.ComputeBias(position, length, position + length); // (1, H, 1, t+1)
        Tensor? crossMask = encoderMask is null ? null : T5Masks.Padding(encoderMask, embeddings.dtype);
        Tensor h = nn.functional.dropout(embeddings, dropout, training);
        for (int i = 0; i < block.Count; i++)
        {
            h = block[i].Decode(h, selfBias, caches[i].CrossKeys, caches[i].CrossValues, crossMask, caches[i]);
        }

        return nn.functional.dropout(final_layer_norm.call(h), dropout, training).MoveToOuterDisposeScope();
    }

    public override string GetName() => isDecoder ? "decoder" : "encoder";
}

/// <summary>Additive attention masks: 0 where attending is allowed, the dtype's minimum where not (as transformers).</summary>
internal static class T5Masks
{
    /// <summary>(B, T) padding mask → (B, 1, 1, T).</summary>
    public static Tensor Padding(Tensor attentionMask, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        Tensor blocked = attentionMask.eq(0).unsqueeze(1).unsqueeze(2);
        return Additive(blocked, dtype).MoveToOuterDisposeScope();
    }

    /// <summary>Causal (1, 1, T, T), or (B, 1, T, T) when the decoder inputs have padding.</summary>
    public static Tensor Causal(long length, Tensor? decoderMask, ScalarType dtype, Device device)
    {
        using var scope = NewDisposeScope();
        Tensor future = ones(length, length, dtype: ScalarType.Bool, device: device).triu(1).unsqueeze(0).unsqueeze(0);
        Tensor blocked = decoderMask is null ? future : future.logical_or(decoderMask.eq(0).unsqueeze(1).unsqueeze(2));
        return Additive(blocked, dtype).MoveToOuterDisposeScope();
    }

    private static Tensor Additive(Tensor blocked, ScalarType dtype)
    {
        double min = dtype switch
        {
            ScalarType.Float16 => -65504.0,
            ScalarType.BFloat16 => -3.3895313892515355e38,
            ScalarType.Float64 => double.MinValue,
            _ => float.MinValue,
        };
        return zeros(blocked.shape, dtype: dtype, device: blocked.device).masked_fill(blocked, min);
    }
}
