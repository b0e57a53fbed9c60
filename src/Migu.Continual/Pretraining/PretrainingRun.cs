using Migu.Continual.Recipes;
using Migu.Continual.Runs;
using Migu.Core.Lora;
using Migu.Models;
using static TorchSharp.torch;

namespace Migu.Continual.Pretraining;

/// <summary>Everything one execution of a continual pre-training run works with, set up by <see cref="ContinualPretrainingRunner"/>.</summary>
internal sealed record PretrainingRun
{
    public required Recipe Recipe { get; init; }

    public required PretrainSettings Settings { get; init; }

    public required RunStore Store { get; init; }

    public required LanguageModel Model { get; init; }

    /// <summary>The run's tokenizer files (tokenizer/), copied beside every checkpoint.</summary>
    public required string TokenizerDirectory { get; init; }

    public required IPretrainingObjective Objective { get; init; }

    public required IReadOnlyList<PretrainDomain> Domains { get; init; }

    public required IReadOnlyList<IReadOnlyList<int[]>> TrainSequences { get; init; }

    public required IReadOnlyList<IReadOnlyList<int[]>> HeldOutSequences { get; init; }

    /// <summary>The tasks scored after pre-training; empty when the recipe has no end_tasks.</summary>
    public required IReadOnlyList<LoadedTask> EndTasks { get; init; }

    public required Device Device { get; init; }

    public required IRunObserver Observer { get; init; }

    /// <summary>checkpoints/initial: the model before any domain (Hugging Face layout), written once.</summary>
    public string InitialCheckpoint(LoraAdapters? lora)
    {
        string dir = Path.Combine(Store.CheckpointsDirectory, "initial");
        if (!Migu.Models.Checkpoints.ModelCheckpoint.IsCheckpointDirectory(dir))
        {
            RunStore.WriteDirectory(dir, temp => MergedCheckpoint.Save(Model, lora, TokenizerDirectory, temp));
        }

        return dir;
    }
}
