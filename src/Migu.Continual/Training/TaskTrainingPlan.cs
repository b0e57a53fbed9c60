using Migu.Continual.Recipes;

namespace Migu.Continual.Training;

/// <summary>What one task's training does: its examples and the optimisation settings in force for it.</summary>
public sealed record TaskTrainingPlan
{
    public required int TaskIndex { get; init; }

    public required string TaskName { get; init; }

    /// <summary>What the task trains on.</summary>
    public required ITrainingData Data { get; init; }

    public int Epochs { get; init; } = 1;

    /// <summary>Examples per optimizer step.</summary>
    public int Batch { get; init; } = 8;

    /// <summary>Micro-batches per optimizer step.</summary>
    public int GradAccum { get; init; } = 1;

    public double Lr { get; init; } = 1e-4;

    public LrSchedule Schedule { get; init; } = LrSchedule.Constant;

    public double WarmupRatio { get; init; }

    /// <summary>Gradient-norm clipping; 0 = off.</summary>
    public double ClipNorm { get; init; } = 1.0;

    /// <summary>The run seed; data order and dropout derive from it, the task and the step.</summary>
    public long Seed { get; init; } = 42;

    /// <summary>Mid-task checkpoint every N optimizer steps; 0 = none.</summary>
    public int CheckpointEvery { get; init; }

    /// <summary>
    /// A fixed number of optimizer steps instead of <see cref="Epochs"/> (pre-training): epochs follow
    /// one another until this many steps are planned, and the last one stops part-way. Null = Epochs.
    /// </summary>
    public int? MaxSteps { get; init; }

    /// <summary>A plan with a recipe's training settings and seed; callers override per task with <c>with</c>.</summary>
    public static TaskTrainingPlan FromRecipe(Recipe recipe, int taskIndex, string taskName, ITrainingData data)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        TrainingSettings t = recipe.Training;
        return new TaskTrainingPlan
        {
            TaskIndex = taskIndex,
            TaskName = taskName,
            Data = data,
            Epochs = t.Epochs,
            Batch = t.Batch,
            GradAccum = t.GradAccum,
            Lr = t.Lr,
            Schedule = t.Schedule,
            WarmupRatio = t.WarmupRatio,
            ClipNorm = t.ClipNorm,
            Seed = recipe.Seed,
            CheckpointEvery = t.CheckpointEvery,
        };
    }

    /// <summary>The optimizer steps of every epoch, in order: each is the example indices of one batch.</summary>
    public IReadOnlyList<(int Epoch, int[] Batch)> Steps()
    {
        int[] lengths = [.. Enumerable.Range(0, Data.Count).Select(Data.TokensOf)];
        var steps = new List<(int, int[])>();
        for (int epoch = 0; MaxSteps is int max ? steps.Count < max && lengths.Length > 0 : epoch < Epochs; epoch++)
        {
            foreach (int[] batch in BatchPlan.ForEpoch(lengths, Batch, Seeds.Derive(Seed, SeedPurpose.DataOrder, TaskIndex, epoch)))
            {
                steps.Add((epoch, batch));
            }
        }

        return MaxSteps is int cap && steps.Count > cap ? steps.GetRange(0, cap) : steps;
    }
}

/// <summary>One optimizer step as the loss log records it.</summary>
/// <param name="TaskIndex">Task being trained.</param>
/// <param name="Step">0-based step within the task.</param>
/// <param name="TotalSteps">Steps of the task.</param>
/// <param name="Epoch">0-based epoch.</param>
/// <param name="Loss">Task loss of the step (mean over its examples' target tokens, micro-batches weighted by size), extra terms excluded.</param>
/// <param name="ExtraLoss">The strategy's extra term (EWC, O-LoRA), 0 when none.</param>
/// <param name="Lr">Learning rate used.</param>
/// <param name="Tokens">Non-padding tokens processed.</param>
public sealed record StepRecord(int TaskIndex, int Step, int TotalSteps, int Epoch, double Loss, double ExtraLoss, double Lr, long Tokens);
