using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Core.Optim;

/// <summary>
/// PyTorch's parameter groups with a learning rate each, for optimizers that take one: one inner
/// optimizer per group of parameters (disjoint), each stepping at a fixed multiple of the learning
/// rate a schedule sets here. A freshly initialised classifier head learns at 10–30× the rate of the
/// pretrained encoder under it, which is the common use. The groups share nothing but the learning
/// rate, so each inner optimizer's arithmetic is its own, and their state exports as one dictionary
/// (the names are the caller's, one per parameter), so a checkpoint reads the same as one optimizer's.
/// It does not fold MIGU's gradient masks (<see cref="IGradientMaskFolding"/>): the controller masks
/// the gradients itself, one pass more on a GPU, the same step.
/// </summary>
public sealed class ParameterGroupOptimizer : IStatefulOptimizer
{
    private readonly IReadOnlyList<(IStatefulOptimizer Optimizer, double Scale)> groups;
    private double learningRate;

    /// <param name="groups">Each group's optimizer (built at any learning rate: this one sets it) and its multiple of the learning rate.</param>
    /// <param name="learningRate">The learning rate a multiple of 1 steps at.</param>
    public ParameterGroupOptimizer(IReadOnlyList<(IStatefulOptimizer Optimizer, double Scale)> groups, double learningRate)
    {
        ArgumentNullException.ThrowIfNull(groups);
        if (groups.Count == 0)
        {
            throw new ArgumentException("at least one parameter group is needed", nameof(groups));
        }

        if (groups.Any(g => !(g.Scale > 0) || double.IsInfinity(g.Scale)))
        {
            throw new MiguUserException($"a parameter group's learning-rate multiple must be a finite number > 0, got {string.Join(", ", groups.Select(g => g.Scale))}");
        }

        var seen = new HashSet<Parameter>(ReferenceEqualityComparer.Instance);
        if (groups.SelectMany(g => g.Optimizer.Parameters).Any(p => !seen.Add(p)))
        {
            throw new ArgumentException("a parameter is in more than one group", nameof(groups));
        }

        this.groups = groups;
        Parameters = [.. groups.SelectMany(g => g.Optimizer.Parameters)];
        LearningRate = learningRate;
    }

    public double LearningRate
    {
        get => learningRate;
        set
        {
            learningRate = value;
            foreach (var (optimizer, scale) in groups)
            {
                optimizer.LearningRate = value * scale;
            }
        }
    }

    public IReadOnlyList<Parameter> Parameters { get; }

    /// <summary>Every group steps; each finds its own weights in <paramref name="rowMasks"/> and ignores the others'.</summary>
    public void Step(IReadOnlyDictionary<Parameter, Tensor>? rowMasks)
    {
        foreach (var (optimizer, _) in groups)
        {
            optimizer.Step(rowMasks);
        }
    }

    public void ZeroGrad()
    {
        foreach (var (optimizer, _) in groups)
        {
            optimizer.ZeroGrad();
        }
    }

    public Dictionary<string, Tensor> ExportState(IReadOnlyDictionary<Parameter, string> names)
    {
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (optimizer, _) in groups)
        {
            foreach (var (key, value) in optimizer.ExportState(names))
            {
                state.Add(key, value);
            }
        }

        return state;
    }

    public void ImportState(IReadOnlyDictionary<string, Tensor> state, IReadOnlyDictionary<Parameter, string> names)
    {
        foreach (var (optimizer, _) in groups)
        {
            optimizer.ImportState(state, names);
        }
    }

    public void Dispose()
    {
        foreach (var (optimizer, _) in groups)
        {
            optimizer.Dispose();
        }
    }
}
