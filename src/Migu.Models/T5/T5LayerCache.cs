using static TorchSharp.torch;

namespace Migu.Models.T5;

/// <summary>
/// One decoder layer's state while generating: the self-attention keys/values so far (grown each
/// step) and the cross-attention keys/values of the encoder output (computed once). Owns its tensors.
/// </summary>
internal sealed class T5LayerCache(Tensor crossKeys, Tensor crossValues) : IDisposable
{
    private Tensor? selfKeys;
    private Tensor? selfValues;

    public Tensor CrossKeys { get; } = crossKeys; // (B, H, T_enc, d_kv)

    public Tensor CrossValues { get; } = crossValues;

    /// <summary>Appends this step's (B, H, t, d_kv) keys/values and returns all so far; the cache keeps its own references.</summary>
    public (Tensor Keys, Tensor Values) AppendSelf(Tensor keys, Tensor values)
    {
        Tensor allKeys = selfKeys is null ? keys.alias() : cat([selfKeys, keys], 2);
        Tensor allValues = selfValues is null ? values.alias() : cat([selfValues, values], 2);
        selfKeys?.Dispose();
        selfValues?.Dispose();
        selfKeys = allKeys.alias().DetachFromDisposeScope();
        selfValues = allValues.alias().DetachFromDisposeScope();
        return (allKeys, allValues);
    }

    /// <summary>Keys cached so far.</summary>
    public long Length => selfKeys?.shape[2] ?? 0;

    public void Dispose()
    {
        selfKeys?.Dispose();
        selfValues?.Dispose();
        CrossKeys.Dispose();
        CrossValues.Dispose();
    }
}
