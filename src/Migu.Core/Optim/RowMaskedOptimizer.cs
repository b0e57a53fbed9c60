using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Core.Optim;

/// <summary>The loop every row-masked optimizer shares: one dispose scope per parameter update, no autograd.</summary>
public abstract class RowMaskedOptimizer : IRowMaskedOptimizer
{
    private readonly List<Parameter> parameters;

    protected RowMaskedOptimizer(IEnumerable<Parameter> parameters, double learningRate)
    {
        this.parameters = parameters.Where(p => p.requires_grad).ToList();
        if (this.parameters.Count == 0)
        {
            throw new MiguUserException("the optimizer was given no trainable parameter");
        }

        if (!(learningRate >= 0) || double.IsInfinity(learningRate))
        {
            throw new MiguUserException($"learning rate must be a finite number ≥ 0, got {learningRate}");
        }

        LearningRate = learningRate;
    }

    public double LearningRate { get; set; }

    public IReadOnlyList<Parameter> Parameters => parameters;

    public void Step(IReadOnlyDictionary<Parameter, Tensor>? rowMasks)
    {
        using var noGrad = no_grad();
        BeginStep();
        foreach (Parameter p in parameters)
        {
            Tensor? grad = p.grad;
            if (grad is null)
            {
                continue;
            }

            using var scope = NewDisposeScope();
            if (rowMasks is RowMaskDictionary set && set.TryGetKeptRows(p, out Tensor? kept) && TryUpdateKeptRows(p, grad, kept))
            {
                continue;
            }

            Tensor? mask = null;
            if (rowMasks is not null && rowMasks.TryGetValue(p, out Tensor? m))
            {
                mask = m.dtype == p.dtype ? m : m.to(p.dtype);
            }

            Update(p, grad, mask);
        }

        EndStep();
    }

    public void ZeroGrad()
    {
        foreach (Parameter p in parameters)
        {
            p.grad?.zero_();
        }
    }

    /// <summary>One parameter's update from a given gradient, for optimizers that wrap this one (fp32 masters of bf16 weights).</summary>
    internal void UpdateWith(Parameter p, Tensor grad, Tensor? rowMask)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Update(p, grad, rowMask is null || rowMask.dtype == p.dtype ? rowMask : rowMask.to(p.dtype));
    }

    /// <summary>Updates one parameter <paramref name="p"/>. <paramref name="rowMask"/> (rows, 1), when given, freezes its zero rows entirely.</summary>
    protected abstract void Update(Parameter p, Tensor grad, Tensor? rowMask);

    /// <summary>
    /// Updates only the rows <paramref name="keptRows"/> (k, int64) of <paramref name="p"/>, the others
    /// frozen as by a row mask; false when this optimizer does not take indices (then the mask is used).
    /// </summary>
    protected virtual bool TryUpdateKeptRows(Parameter p, Tensor grad, Tensor keptRows) => false;

    /// <summary>Called before a <see cref="Step"/>'s updates, outside every parameter's dispose scope.</summary>
    protected virtual void BeginStep()
    {
    }

    /// <summary>Called after a <see cref="Step"/>'s updates (an optimizer that batches work finishes it here).</summary>
    protected virtual void EndStep()
    {
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected abstract void Dispose(bool disposing);
}
