using Migu.Core;
using Migu.Core.Optim;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Continual.Training;

/// <summary>
/// The recipe's <c>dtype</c>: fp32 everywhere, or bf16 weights and activations with fp32 master
/// weights in the optimizer (<see cref="MixedPrecisionAdamW"/>). <c>auto</c> is bf16 on CUDA and fp32 on the CPU.
/// </summary>
public static class TrainingPrecision
{
    /// <summary>The weight dtype for <paramref name="dtype"/> on <paramref name="device"/>.</summary>
    public static ScalarType Resolve(string dtype, Device device)
    {
        ArgumentNullException.ThrowIfNull(dtype);
        return dtype.ToLowerInvariant() switch
        {
            "auto" => device.type == DeviceType.CUDA ? ScalarType.BFloat16 : ScalarType.Float32,
            "fp32" or "float32" => ScalarType.Float32,
            "bf16" or "bfloat16" => ScalarType.BFloat16,
            _ => throw new MiguUserException($"training.dtype: '{dtype}' is not one of fp32, bf16, auto"),
        };
    }

    /// <summary>AdamW over <paramref name="parameters"/>: plain for fp32 weights, with fp32 masters otherwise.</summary>
    public static IStatefulOptimizer AdamW(IEnumerable<Parameter> parameters, ScalarType weights, double lr, double beta1, double beta2, double eps, double weightDecay) =>
        weights == ScalarType.Float32
            ? new RowMaskedAdamW(parameters, lr, beta1, beta2, eps, weightDecay)
            : new MixedPrecisionAdamW(parameters, lr, beta1, beta2, eps, weightDecay);
}
