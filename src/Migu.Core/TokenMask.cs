using static TorchSharp.torch;

namespace Migu.Core;

/// <summary>
/// The ambient padding mask for magnitude recording. A model wraps each token stream's forward
/// (encoder, decoder) in <see cref="Use"/>, so every projection inside excludes padding tokens
/// from its magnitudes without the mask being threaded through every call. Per thread, like
/// autograd's no_grad.
/// </summary>
public static class TokenMask
{
    [ThreadStatic]
    private static Tensor? current;

    /// <summary>The flattened (N) float mask in force, 1 for real tokens and 0 for padding; null means all tokens count.</summary>
    public static Tensor? Current => current;

    /// <summary>
    /// Puts <paramref name="attentionMask"/> (any shape, e.g. (B, T); nonzero = real token) in force
    /// until the returned handle is disposed, which restores the previous mask. Null means no padding.
    /// </summary>
    public static IDisposable Use(Tensor? attentionMask)
    {
        Tensor? previous = current;
        Tensor? flat = null;
        if (attentionMask is not null)
        {
            using var noGrad = no_grad();
            using var scope = NewDisposeScope();
            flat = attentionMask.detach().reshape(-1).ne(0).to(ScalarType.Float32);
            // Owned by the returned handle, not by whatever scope the caller is in.
            flat.DetachFromDisposeScope();
        }

        current = flat;
        return new Restore(previous, flat);
    }

    private sealed class Restore(Tensor? previous, Tensor? installed) : IDisposable
    {
        private bool disposed;

        public void Dispose()
        {
            if (disposed)
            {
                return;
            }

            disposed = true;
            current = previous;
            installed?.Dispose();
        }
    }
}
