using Migu.Continual.Prompts;
using Migu.Continual.Runs;
using Migu.Continual.Strategies;
using Migu.Core;
using Migu.Models;
using Migu.Models.Checkpoints;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Extensibility.Tests;

/// <summary>The toy method's settings: one property, declared once, is its recipe key, its flag and its help.</summary>
public sealed record AnchorSettings
{
    [Option("Weight of the pull back to the weights the run started from", Flag = "--anchor-strength")]
    public double Strength { get; init; } = 1.0;
}

/// <summary>
/// A toy method written outside the library: fine-tuning with an L2 pull toward the initial weights,
/// (strength)·Σ(θ − θ₀)². It records what the runner asked of it, so a test can see the runner used it.
/// </summary>
public sealed class AnchoredFineTuning(LanguageModel model, double strength) : IContinualStrategy
{
    private readonly Dictionary<string, Tensor> anchors = new(StringComparer.Ordinal);

    /// <summary>Every strategy the registration made, for the tests to inspect.</summary>
    public static List<AnchoredFineTuning> Created { get; } = [];

    /// <summary>The method's registration: a name, a summary, its recipe section and how its strategy is made.</summary>
    public static ContinualMethod Method { get; } = new()
    {
        Name = "anchored",
        Summary = "ft with an L2 pull toward the initial weights (a toy method registered by a test)",
        Section = ("anchor", typeof(AnchorSettings)),
        Create = context =>
        {
            var made = new AnchoredFineTuning(context.Model, context.Recipe.Section<AnchorSettings>("anchor").Strength);
            Created.Add(made);
            return made;
        },
    };

    public double Strength => strength;

    public List<int> BegunTasks { get; } = [];

    /// <summary>The pull's value at every step it was asked for.</summary>
    public List<float> ExtraLosses { get; } = [];

    public List<int> EndedTasks { get; } = [];

    public string Name => Method.Name;

    public IReadOnlyList<Parameter> BeginTask(int taskIndex)
    {
        BegunTasks.Add(taskIndex);
        if (anchors.Count == 0)
        {
            foreach (var (name, p) in model.named_parameters())
            {
                Tensor anchor = p.detach().clone();
                anchor.DetachFromDisposeScope();
                anchors[name] = anchor;
            }
        }

        return [.. model.parameters()];
    }

    public IReadOnlyList<MaskTarget> MiguTargets(MiguOptions options) => [.. MiguController.SelectTargets(model, options)];

    public IReadOnlyList<PromptedExample> TrainingData(int taskIndex, IReadOnlyList<LoadedTask> tasks) => tasks[taskIndex].Train;

    public Tensor? ExtraLoss(int taskIndex)
    {
        using var scope = NewDisposeScope();
        Tensor total = zeros(1).squeeze();
        foreach (var (name, p) in model.named_parameters())
        {
            total = total.add(p.sub(anchors[name]).square().sum());
        }

        Tensor pull = total.mul(strength);
        ExtraLosses.Add(pull.item<float>());
        return pull.MoveToOuterDisposeScope();
    }

    public void EndTask(TaskEndContext context)
    {
        ArgumentNullException.ThrowIfNull(context);
        EndedTasks.Add(context.TaskIndex);
    }

    public void SaveCheckpoint(string directory) => ModelCheckpoint.Save(model, directory);

    public void LoadCheckpoint(string directory) => ModelCheckpoint.LoadWeights(model, directory);

    public void Dispose()
    {
        foreach (Tensor t in anchors.Values)
        {
            t.Dispose();
        }

        anchors.Clear();
    }
}
