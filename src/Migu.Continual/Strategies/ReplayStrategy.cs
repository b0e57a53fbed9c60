using Migu.Continual.Training;
using Migu.Core;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Continual.Strategies;

/// <summary>
/// Replay around another strategy (ft or lora): task t trains on its own examples plus, for each
/// earlier task j, a fixed sample of ⌈fraction·|train_j|⌉ of j's examples. The sample of task j
/// is drawn from the run seed and j alone, so it is the same at every later task and after a resume.
/// </summary>
public sealed class ReplayStrategy(IContinualStrategy inner, double fraction, long seed) : IContinualStrategy
{
    public string Name => "replay";

    /// <summary>The strategy that decides what trains.</summary>
    public IContinualStrategy Inner => inner;

    public IReadOnlyList<Parameter> BeginTask(int taskIndex) => inner.BeginTask(taskIndex);

    public IReadOnlyList<MaskTarget> MiguTargets(MiguOptions options) => inner.MiguTargets(options);

    public IReadOnlyList<TextPair> TrainingData(int taskIndex, IReadOnlyList<IReadOnlyList<TextPair>> trainSets)
    {
        var mixed = new List<TextPair>(inner.TrainingData(taskIndex, trainSets));
        for (int j = 0; j < taskIndex; j++)
        {
            mixed.AddRange(Sample(trainSets[j], j));
        }

        return mixed;
    }

    /// <summary>The replay sample of past task <paramref name="taskIndex"/>: label-stratified, at least one example.</summary>
    public IReadOnlyList<TextPair> Sample(IReadOnlyList<TextPair> train, int taskIndex)
    {
        if (fraction <= 0 || train.Count == 0)
        {
            return [];
        }

        int count = Math.Min(train.Count, Math.Max(1, (int)Math.Ceiling(fraction * train.Count)));
        return StratifiedSample.Take(train, p => p.Target, count, Seeds.Derive(seed, 0x5EED, taskIndex));
    }

    public Tensor? ExtraLoss(int taskIndex) => inner.ExtraLoss(taskIndex);

    public void EndTask(TaskEndContext context) => inner.EndTask(context);

    public void SaveCheckpoint(string directory) => inner.SaveCheckpoint(directory);

    public void LoadCheckpoint(string directory) => inner.LoadCheckpoint(directory);

    public void Dispose() => inner.Dispose();
}
