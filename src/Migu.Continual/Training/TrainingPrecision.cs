using Migu.Continual.Recipes;
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
    public static ScalarType Resolve(TrainingDtype dtype, Device device) => dtype switch
    {
        TrainingDtype.Fp32 => ScalarType.Float32,
        TrainingDtype.Bf16 => ScalarType.BFloat16,
        _ => device.type == DeviceType.CUDA ? ScalarType.BFloat16 : ScalarType.Float32,
    };

    /// <summary>A dtype as flags write it (fp32 or float32, bf16 or bfloat16, auto).</summary>
    public static TrainingDtype Parse(string dtype)
    {
        ArgumentNullException.ThrowIfNull(dtype);
        return dtype.ToLowerInvariant() switch
        {
            "auto" => TrainingDtype.Auto,
            "fp32" or "float32" => TrainingDtype.Fp32,
            "bf16" or "bfloat16" => TrainingDtype.Bf16,
            _ => throw new MiguUserException($"training.dtype: '{dtype}' is not one of fp32, bf16, auto"),
        };
    }

    /// <summary>AdamW over <paramref name="parameters"/>: plain for fp32 weights, with fp32 masters otherwise.</summary>
    public static IStatefulOptimizer AdamW(IEnumerable<Parameter> parameters, ScalarType weights, double lr, double beta1, double beta2, double eps, double weightDecay) =>
        weights == ScalarType.Float32
            ? new RowMaskedAdamW(parameters, lr, beta1, beta2, eps, weightDecay)
            : new MixedPrecisionAdamW(parameters, lr, beta1, beta2, eps, weightDecay);

    /// <summary>
    /// AdamW over <paramref name="parameters"/> with those in <paramref name="head"/> at
    /// <paramref name="headScale"/> × the learning rate (two parameter groups, <see cref="ParameterGroupOptimizer"/>);
    /// one group, as above, when <paramref name="headScale"/> is null.
    /// </summary>
    public static IStatefulOptimizer AdamW(
        IReadOnlyList<Parameter> parameters, IReadOnlyCollection<Parameter> head, double? headScale, ScalarType weights, double lr, double beta1, double beta2, double eps, double weightDecay)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        ArgumentNullException.ThrowIfNull(head);
        if (headScale is not double scale)
        {
            return AdamW(parameters, weights, lr, beta1, beta2, eps, weightDecay);
        }

        var heads = new HashSet<Parameter>(head, ReferenceEqualityComparer.Instance);
        Parameter[] headGroup = [.. parameters.Where(p => p.requires_grad && heads.Contains(p))];
        Parameter[] rest = [.. parameters.Where(p => p.requires_grad && !heads.Contains(p))];
        if (headGroup.Length == 0)
        {
            throw new MiguUserException("training.head_lr_scale: the run trains no classifier head (it applies to encoder classifiers only)");
        }

        var groups = new List<(IStatefulOptimizer, double)>();
        try
        {
            if (rest.Length > 0)
            {
                groups.Add((AdamW(rest, weights, lr, beta1, beta2, eps, weightDecay), 1.0));
            }

            groups.Add((AdamW(headGroup, weights, lr, beta1, beta2, eps, weightDecay), scale));
            return new ParameterGroupOptimizer(groups, lr);
        }
        catch
        {
            groups.ForEach(g => g.Item1.Dispose());
            throw;
        }
    }
}
