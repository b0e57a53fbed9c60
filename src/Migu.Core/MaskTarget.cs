using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Core;

/// <summary>
/// One weight whose output rows MIGU masks, with the way to hand it a magnitude accumulator.
/// A projection gives one (its weight, by its own outputs); a LoRA layer gives two (A by x·A, B by
/// the whole layer output).
/// </summary>
/// <param name="Name">Parameter name, e.g. <c>encoder.block.0.layer.0.SelfAttention.q.weight</c>.</param>
/// <param name="Weight">The weight; dimension 0 is the output unit.</param>
/// <param name="Install">Points the recorder at an fp32 (rows) accumulator, or detaches it with null.</param>
public sealed record MaskTarget(string Name, Parameter Weight, Action<Tensor?> Install)
{
    public long Rows => Weight.shape[0];

    /// <summary>The target for a projection's own weight.</summary>
    public static MaskTarget For(string moduleName, Projection projection) =>
        new(moduleName.Length == 0 ? "weight" : moduleName + ".weight", projection.Weight, acc => projection.MagnitudeAccumulator = acc);
}
