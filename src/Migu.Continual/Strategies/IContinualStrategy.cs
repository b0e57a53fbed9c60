using Migu.Continual.Prompts;
using Migu.Continual.Runs;
using Migu.Continual.Training;
using Migu.Core;
using Migu.Core.Lora;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Continual.Strategies;

/// <summary>
/// A continual-learning strategy as a plug-in of the one training loop: what trains, what data is
/// mixed in, which extra loss terms apply, what happens between tasks, and what a checkpoint holds.
/// MIGU is orthogonal: the loop asks the strategy for the weights MIGU may mask.
/// </summary>
public interface IContinualStrategy : IDisposable
{
    /// <summary>The method's name as recipes write it (ft, lora, replay, …).</summary>
    string Name { get; }

    /// <summary>Prepares the model for task <paramref name="taskIndex"/> (e.g. a new adapter) and returns the parameters to train.</summary>
    IReadOnlyList<Parameter> BeginTask(int taskIndex);

    /// <summary>The weights whose rows MIGU masks during this task, chosen by <paramref name="options"/>' layer selection.</summary>
    IReadOnlyList<MaskTarget> MiguTargets(MiguOptions options);

    /// <summary>The examples task <paramref name="taskIndex"/> trains on, given every task of the run.</summary>
    IReadOnlyList<PromptedExample> TrainingData(int taskIndex, IReadOnlyList<LoadedTask> tasks);

    /// <summary>A loss term added to every optimizer step of the task (EWC, O-LoRA), or null.</summary>
    Tensor? ExtraLoss(int taskIndex);

    /// <summary>After the task trained: e.g. EWC's Fisher estimate.</summary>
    void EndTask(TaskEndContext context);

    /// <summary>Writes what the model has learned so far (weights or adapters) and the strategy's own state.</summary>
    void SaveCheckpoint(string directory);

    /// <summary>Restores <see cref="SaveCheckpoint"/>'s output, for a resumed run.</summary>
    void LoadCheckpoint(string directory);

    /// <summary>The fraction of each earlier task (or pre-training domain) mixed into a task's training data; 0 = none.</summary>
    double ReplayFraction => 0;

    /// <summary>The LoRA adapters the strategy trains on a frozen base, or null when it trains the model's own weights.</summary>
    LoraAdapters? Adapters => null;
}

/// <summary>What a strategy may use after a task: the number of its own training examples and a loss on some of them.</summary>
/// <param name="TaskIndex">The task that just finished.</param>
/// <param name="TrainCount">How many training examples the task has of its own (no replayed ones), indexed 0 … TrainCount − 1.</param>
/// <param name="Loss">Mean loss of the model on the task's examples at these indices, with autograd.</param>
/// <param name="Seed">The run seed.</param>
public sealed record TaskEndContext(
    int TaskIndex,
    int TrainCount,
    Func<IReadOnlyList<int>, Tensor> Loss,
    long Seed);
