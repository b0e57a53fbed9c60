using static TorchSharp.torch;

namespace Migu.Core;

/// <summary>
/// MIGU's forward-time recording, shared by every producer of output units: a projection's own
/// output (and with LoRA attached that is the whole layer output x_O, which ranks B's rows) and a
/// LoRA adapter's x·Aᵀ (which ranks A's rows).
/// </summary>
internal static class MagnitudeRecorder
{
    /// <summary>Experimental (MIGU_RECORD=norm): the one-pass L1 norm for unpadded low-precision batches.</summary>
    private static readonly bool FastLowPrecision = Environment.GetEnvironmentVariable("MIGU_RECORD") == "norm";

    /// <summary>
    /// Adds Σ over non-padding tokens of |y| per output unit (the last dimension of
    /// <paramref name="output"/>) into the fp32 <paramref name="accumulator"/>, outside autograd.
    /// <paramref name="producer"/> names the layer in the error raised when the token mask in force
    /// does not fit.
    /// </summary>
    public static void Add(Tensor accumulator, Tensor output, string producer)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        long units = output.shape[^1];
        Tensor y = output.detach().reshape(-1, units); // (N, units)
        Tensor? mask = TokenMask.Current; // (N) or null
        if (mask is not null && mask.shape[0] != y.shape[0])
        {
            throw new MiguUserException(
                $"the token mask in force has {mask.shape[0]} tokens but {producer} saw {y.shape[0]}; wrap each token stream's forward in its own TokenMask.Use");
        }

        if (mask is not null && mask.device != y.device)
        {
            mask = mask.to(y.device); // a new tensor in this scope; the ambient one stays untouched
        }

        if (y.dtype == ScalarType.Float32)
        {
            // Two kernels: |y|, then one matrix-vector product straight into the fp32 accumulator
            // (measured faster on CPU than a fused L1 norm along the token dimension).
            accumulator.addmv_(y.abs().t(), mask ?? ones(y.shape[0], ScalarType.Float32, y.device));
        }
        else if (mask is null && FastLowPrecision)
        {
            // One pass: the L1 norm kernel reads y once, accumulates in fp32 and rounds the d sums to y's dtype once.
            accumulator.add_(linalg.vector_norm(y, 1, [0], keepdim: false));
        }
        else
        {
            // Low precision activations: reduce with an fp32 accumulator (the reference sums in bf16).
            Tensor absY = y.abs();
            if (mask is not null)
            {
                absY = absY.mul_(mask.to(y.dtype).unsqueeze(1));
            }

            accumulator.add_(absY.sum(0, type: ScalarType.Float32));
        }
    }
}
