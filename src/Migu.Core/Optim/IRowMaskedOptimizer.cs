using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Core.Optim;

/// <summary>
/// An optimizer whose step can leave chosen output rows of chosen weights completely untouched:
/// no parameter change, no moment or momentum update, no weight decay (MIGU's update mode).
/// </summary>
public interface IRowMaskedOptimizer : IDisposable
{
    /// <summary>The learning rate of the next step; schedules set it before each step.</summary>
    double LearningRate { get; set; }

    /// <summary>The parameters this optimizer updates.</summary>
    IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>
    /// One update from the current gradients. <paramref name="rowMasks"/> maps a weight to a
    /// (rows, 1) float mask, 1 = the row may change, 0 = frozen for this step; weights not in the
    /// map (and all of them when it is null) update normally. Parameters without a gradient are skipped.
    /// </summary>
    void Step(IReadOnlyDictionary<Parameter, Tensor>? rowMasks);

    /// <summary>Clears every parameter's gradient.</summary>
    void ZeroGrad();
}
