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

/// <summary>
/// MIGU's masks for one step as the controller hands them to an optimizer: a (rows, 1) float keep-mask
/// per weight (the map itself) and, when the rule keeps a fixed number of rows per weight (top-k,
/// random), the kept row indices, so update mode needs no <c>nonzero</c> (no host synchronisation).
/// The tensors are the controller's buffers, refilled every step: use them, don't keep them.
/// </summary>
public sealed class RowMaskDictionary : IReadOnlyDictionary<Parameter, Tensor>
{
    private readonly Dictionary<Parameter, Tensor> masks = new(ReferenceEqualityComparer.Instance);
    private readonly Dictionary<Parameter, Tensor> keptRows = new(ReferenceEqualityComparer.Instance);

    /// <summary>Whether <see cref="TryGetKeptRows"/> answers this step (set by whoever fills the buffers).</summary>
    public bool HasKeptRows { get; set; }

    public int Count => masks.Count;

    public IEnumerable<Parameter> Keys => masks.Keys;

    public IEnumerable<Tensor> Values => masks.Values;

    public Tensor this[Parameter key] => masks[key];

    /// <summary>Registers a weight's (rows, 1) mask view and, optionally, its (k) kept-rows view.</summary>
    public void Add(Parameter weight, Tensor mask, Tensor? kept)
    {
        masks[weight] = mask;
        if (kept is not null)
        {
            keptRows[weight] = kept;
        }
    }

    /// <summary>The (k) int64 indices of the rows of <paramref name="weight"/> that may change this step, ascending.</summary>
    public bool TryGetKeptRows(Parameter weight, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out Tensor rows)
    {
        rows = null;
        return HasKeptRows && keptRows.TryGetValue(weight, out rows);
    }

    public bool ContainsKey(Parameter key) => masks.ContainsKey(key);

    public bool TryGetValue(Parameter key, [System.Diagnostics.CodeAnalysis.MaybeNullWhen(false)] out Tensor value) => masks.TryGetValue(key, out value);

    public IEnumerator<KeyValuePair<Parameter, Tensor>> GetEnumerator() => masks.GetEnumerator();

    System.Collections.IEnumerator System.Collections.IEnumerable.GetEnumerator() => GetEnumerator();
}

/// <summary>
/// An optimizer that can apply MIGU's gradient-mode masks itself, in the pass that reads the
/// gradients for its step, instead of the controller masking every weight's gradient in a pass of
/// its own (<see cref="MiguController.MaskStep(IRowMaskedOptimizer)"/>).
/// </summary>
public interface IGradientMaskFolding
{
    /// <summary>Multiply the gradients by <paramref name="masks"/> (row-wise) in the next step only.</summary>
    void FoldGradientMasks(RowMaskDictionary masks);
}
