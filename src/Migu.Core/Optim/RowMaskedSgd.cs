using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Core.Optim;

/// <summary>
/// SGD with momentum, L2 weight decay and optional Nesterov (PyTorch's formula, dampening 0), with
/// MIGU's strict update mode: a masked row keeps its weights and its momentum buffer.
/// </summary>
public sealed class RowMaskedSgd : RowMaskedOptimizer
{
    private readonly Dictionary<Parameter, Tensor> momentumBuffers = new(ReferenceEqualityComparer.Instance);

    public RowMaskedSgd(IEnumerable<Parameter> parameters, double learningRate, double momentum = 0, double weightDecay = 0, bool nesterov = false)
        : base(parameters, learningRate)
    {
        if (!(momentum >= 0) || !(weightDecay >= 0))
        {
            throw new MiguUserException($"SGD needs momentum ≥ 0 and weight decay ≥ 0, got {momentum}, {weightDecay}");
        }

        if (nesterov && momentum == 0)
        {
            throw new MiguUserException("Nesterov SGD needs a momentum > 0");
        }

        Momentum = momentum;
        WeightDecay = weightDecay;
        Nesterov = nesterov;
    }

    public double Momentum { get; }

    public double WeightDecay { get; }

    public bool Nesterov { get; }

    protected override void Update(Parameter p, Tensor grad, Tensor? rowMask)
    {
        Tensor d = WeightDecay != 0 ? grad.add(p, WeightDecay) : grad;
        if (Momentum != 0)
        {
            if (!momentumBuffers.TryGetValue(p, out Tensor? buffer))
            {
                // Zeros, so the first step's buffer is exactly d, as PyTorch's clone(d).
                buffer = zeros_like(p);
                buffer.DetachFromDisposeScope();
                momentumBuffers[p] = buffer;
            }

            Tensor next = buffer.mul(Momentum).add_(d);
            if (rowMask is null)
            {
                buffer.copy_(next);
            }
            else
            {
                buffer.copy_(where(rowMask.ne(0), next, buffer));
            }

            d = Nesterov ? d.add(buffer, Momentum) : buffer;
        }

        if (rowMask is null)
        {
            p.add_(d, -LearningRate);
        }
        else
        {
            p.add_(d.mul(rowMask), -LearningRate);
        }
    }

    protected override void Dispose(bool disposing)
    {
        foreach (Tensor b in momentumBuffers.Values)
        {
            b.Dispose();
        }

        momentumBuffers.Clear();
    }
}
