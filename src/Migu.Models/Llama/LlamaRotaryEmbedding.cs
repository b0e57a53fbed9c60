using static TorchSharp.torch;

namespace Migu.Models.Llama;

/// <summary>
/// Rotary position embeddings as transformers computes them for Llama: fp32 inverse frequencies
/// (with linear or llama3 rescaling), cos/sin of position × frequency with the two halves
/// repeated, and the rotate-half convention (the first half of each head pairs with the second).
/// Not a module: the frequencies are derived from the config, never stored in checkpoints.
/// </summary>
internal sealed class LlamaRotaryEmbedding
{
    private readonly float[] inverseFrequencies;
    private Tensor? onDevice; // the frequencies where the last forward ran; a host copy each step would stall the GPU queue

    public LlamaRotaryEmbedding(LlamaConfig config)
    {
        inverseFrequencies = ComputeInverseFrequencies(config);
    }

    /// <summary>The fp32 inverse frequencies (head_dim / 2), for tests.</summary>
    public IReadOnlyList<float> InverseFrequencies => inverseFrequencies;

    /// <summary>cos and sin for <paramref name="positionIds"/> (B, T), each (B, T, head_dim), in <paramref name="dtype"/>.</summary>
    public (Tensor Cos, Tensor Sin) CosSin(Tensor positionIds, ScalarType dtype)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor inv = Frequencies(positionIds.device); // (D/2)
        Tensor freqs = positionIds.to(ScalarType.Float32).unsqueeze(-1).mul(inv); // (B, T, D/2)
        Tensor angles = cat([freqs, freqs], -1); // (B, T, D)
        return (angles.cos().to(dtype).MoveToOuterDisposeScope(), angles.sin().to(dtype).MoveToOuterDisposeScope());
    }

    private Tensor Frequencies(Device device)
    {
        if (onDevice is null || onDevice.device_type != device.type || onDevice.device_index != device.index)
        {
            onDevice?.Dispose();
            onDevice = tensor(inverseFrequencies, device: device);
            onDevice.DetachFromDisposeScope();
        }

        return onDevice;
    }

    /// <summary>x·cos + rotate_half(x)·sin for x (B, H, T, D) and cos/sin (B, T, D).</summary>
    public static Tensor Apply(Tensor x, Tensor cos, Tensor sin)
    {
        using var scope = NewDisposeScope();
        long half = x.shape[^1] / 2;
        Tensor first = x.narrow(-1, 0, half);
        Tensor second = x.narrow(-1, half, half);
        Tensor rotated = cat([second.neg(), first], -1); // (B, H, T, D)
        return x.mul(cos.unsqueeze(1)).add(rotated.mul(sin.unsqueeze(1))).MoveToOuterDisposeScope();
    }

    private static float[] ComputeInverseFrequencies(LlamaConfig config)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        long dim = config.HeadDim;
        // θ^(−2i/d) in fp32, computed as transformers does: 1 / θ^(arange(0, d, 2) / d).
        Tensor exponents = arange(0L, dim, 2L, ScalarType.Int64).to(ScalarType.Float32).div(dim);
        Tensor inv = full_like(exponents, config.RopeTheta).pow(exponents).reciprocal(); // (D/2)
        switch (config.RopeType)
        {
            case LlamaRopeType.Linear:
                inv = inv.div(config.RopeFactor);
                break;
            case LlamaRopeType.Llama3:
                inv = Llama3Rescale(inv, config);
                break;
        }

        return inv.data<float>().ToArray();
    }

    /// <summary>
    /// Llama 3.1: wavelengths longer than original/low_freq_factor are divided by the factor,
    /// shorter than original/high_freq_factor kept, and those between blended smoothly.
    /// </summary>
    private static Tensor Llama3Rescale(Tensor inv, LlamaConfig config)
    {
        double factor = config.RopeFactor;
        double low = config.RopeLowFreqFactor;
        double high = config.RopeHighFreqFactor;
        double original = config.RopeOriginalMaxPositionEmbeddings ?? config.MaxPositionEmbeddings;
        double lowFreqWavelength = original / low;
        double highFreqWavelength = original / high;
        Tensor wavelength = inv.reciprocal().mul(2 * Math.PI);
        Tensor scaled = where(wavelength.gt(lowFreqWavelength), inv.div(factor), inv);
        Tensor smooth = wavelength.reciprocal().mul(original).sub(low).div(high - low);
        Tensor smoothed = smooth.neg().add(1).mul(scaled).div(factor).add(smooth.mul(scaled));
        Tensor medium = wavelength.lt(highFreqWavelength).logical_not().logical_and(wavelength.gt(lowFreqWavelength).logical_not());
        return where(medium, smoothed, scaled);
    }
}
