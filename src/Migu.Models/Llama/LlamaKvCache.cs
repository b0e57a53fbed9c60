using static TorchSharp.torch;

namespace Migu.Models.Llama;

/// <summary>
/// Keys (after RoPE) and values of the tokens seen so far, per layer, (B, KV, S, D) each. Owns its
/// tensors outside any dispose scope, since they outlive every decoding step.
/// </summary>
internal sealed class LlamaKvCache : IDisposable
{
    private readonly Tensor?[] keys;
    private readonly Tensor?[] values;

    public LlamaKvCache(long layers)
    {
        keys = new Tensor?[layers];
        values = new Tensor?[layers];
    }

    /// <summary>Tokens cached so far (the same for every layer once a step has finished).</summary>
    public long Length => keys[0]?.shape[2] ?? 0;

    /// <summary>Appends this step's keys and values of <paramref name="layer"/>; returns all of them.</summary>
    public (Tensor Keys, Tensor Values) Append(int layer, Tensor newKeys, Tensor newValues)
    {
        keys[layer] = Concat(keys[layer], newKeys);
        values[layer] = Concat(values[layer], newValues);
        return (keys[layer]!, values[layer]!);
    }

    public void Dispose()
    {
        foreach (Tensor? t in keys.Concat(values))
        {
            t?.Dispose();
        }
    }

    private static Tensor Concat(Tensor? old, Tensor added)
    {
        Tensor all = old is null ? added.detach().clone() : cat([old, added.detach()], 2);
        all.DetachFromDisposeScope();
        old?.Dispose();
        return all;
    }
}
