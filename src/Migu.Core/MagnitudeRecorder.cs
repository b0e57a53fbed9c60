using Migu.Core.Runtime;
using static TorchSharp.torch;

namespace Migu.Core;

/// <summary>
/// MIGU's forward-time recording, shared by every producer of output units: a projection's own
/// output (and with LoRA attached that is the whole layer output x_O, which ranks B's rows) and a
/// LoRA adapter's x·Aᵀ (which ranks A's rows).
/// </summary>
internal static class MagnitudeRecorder
{

    /// <summary>
    /// Adds Σ over non-padding tokens of |y| per output unit (the last dimension of
    /// <paramref name="output"/>) into the fp32 <paramref name="accumulator"/>, outside autograd.
    /// <paramref name="producer"/> names the layer in the error raised when the token mask in force
    /// does not fit.
    /// </summary>
    public static void Add(Tensor accumulator, Tensor output, string producer)
    {
        // Every call here is a few native calls per projection per forward; on a GPU, models with
        // hundreds of projections are launch-bound, so this path avoids all but the needed ones.
        using var scope = NewDisposeScope();
        Tensor y = output.detach(); // (…, units): detached, so nothing below is recorded by autograd
        Tensor? mask = TokenMask.Current; // (N) or null
        bool onePass = PerformanceLevers.On(y.device_type).L1Recording;
        if (mask is null && onePass)
        {
            // One reduction that reads y once and sums in fp32: no |y| tensor is written.
            ScriptKernels.AddL1(accumulator, y.reshape(-1, y.shape[^1]));
            return;
        }

        if (mask is null)
        {
            // Σ over every leading dimension at once, accumulated and returned in fp32 (bf16 sums
            // would round, as the reference code's do): |y| then one reduction.
            long[] leading = [.. Enumerable.Range(0, (int)y.dim() - 1).Select(d => (long)d)];
            accumulator.add_(y.abs().sum(leading, type: ScalarType.Float32));
            return;
        }

        long units = y.shape[^1];
        y = y.reshape(-1, units); // (N, units)
        if (mask.shape[0] != y.shape[0])
        {
            throw new MiguUserException(
                $"the token mask in force has {mask.shape[0]} tokens but {producer} saw {y.shape[0]}; wrap each token stream's forward in its own TokenMask.Use");
        }

        if (mask.device_type != y.device_type || mask.device_index != y.device_index)
        {
            mask = mask.to(y.device); // a new tensor in this scope; the ambient one stays untouched
        }

        if (y.dtype == ScalarType.Float32)
        {
            // |y|ᵀ·mask: one matrix-vector product straight into the fp32 accumulator (measured
            // faster on CPU than a masked fused L1 norm).
            accumulator.addmv_(y.abs().t(), mask);
        }
        else if (onePass)
        {
            ScriptKernels.AddL1Masked(accumulator, y, mask.to(y.dtype));
        }
        else
        {
            accumulator.add_(y.abs().mul_(mask.to(y.dtype).unsqueeze(1)).sum(0, type: ScalarType.Float32));
        }
    }
}
