using Migu.Continual.Prompts;
using Migu.Continual.Runs;
using Migu.Continual.Training;
using Migu.Core;
using Migu.Core.Lora;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Continual.Strategies;

/// <summary>
/// Replay around another strategy (ft or lora): task t trains on its own examples plus, for each
/// earlier task j, a fixed label-stratified sample of round(fraction·|train_j|) (at least one) of j's
/// examples. The sample of task j is drawn from the run seed and j's name alone, so it is the same at every later task and after a resume.
/// </summary>
public sealed class ReplayStrategy(IContinualStrategy inner, double fraction, long seed) : IContinualStrategy
{
    public string Name => "replay";

    /// <summary>The strategy that decides what trains.</summary>
    public IContinualStrategy Inner => inner;

    /// <summary>The fraction of each past task (or pre-training domain) mixed in.</summary>
    public double ReplayFraction => fraction;

    public LoraAdapters? Adapters => inner.Adapters;

    public IReadOnlyList<Parameter> BeginTask(int taskIndex) => inner.BeginTask(taskIndex);

    public IReadOnlyList<MaskTarget> MiguTargets(MiguOptions options) => inner.MiguTargets(options);

    public IReadOnlyList<PromptedExample> TrainingData(int taskIndex, IReadOnlyList<LoadedTask> tasks)
    {
        var mixed = new List<PromptedExample>(inner.TrainingData(taskIndex, tasks));
        for (int j = 0; j < taskIndex; j++)
        {
            mixed.AddRange(tasks[j].ReplaySample(fraction, seed));
        }

        return mixed;
    }

    public Tensor? ExtraLoss(int taskIndex) => inner.ExtraLoss(taskIndex);

    public void EndTask(TaskEndContext context) => inner.EndTask(context);

    public void SaveCheckpoint(string directory) => inner.SaveCheckpoint(directory);

    public void LoadCheckpoint(string directory) => inner.LoadCheckpoint(directory);

    public void Dispose() => inner.Dispose();
}
