using Migu.Continual.Recipes;

namespace Migu.Continual.Training;

/// <summary>What one task's training does: its examples and the optimisation settings in force for it; its batches (<see cref="BatchPlan"/>) and learning rates (<see cref="LearningRate"/>) are below.</summary>
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

    /// <summary>
    /// How examples are grouped into batches: length-sorted windows for one task's own examples,
    /// a uniform shuffle when the phase mixes tasks (MTL's joint phase, replay's earlier examples),
    /// where sorting by length would make batches nearly single-task and clump the replayed ones.
    /// </summary>
    public BatchOrder Order { get; init; } = BatchOrder.LengthSorted;

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
            foreach (int[] batch in BatchPlan.ForEpoch(lengths, Batch, Seeds.Derive(Seed, SeedPurpose.DataOrder, TaskIndex, epoch), Order))
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

/// <summary>How <see cref="BatchPlan.ForEpoch"/> groups an epoch's examples into batches.</summary>
public enum BatchOrder
{
    /// <summary>Sorted by length within windows of <see cref="BatchPlan.WindowBatches"/> batches: little padding.</summary>
    LengthSorted,

    /// <summary>
    /// A uniform shuffle: every batch is a uniform draw of the examples, so a phase that mixes tasks
    /// mixes them in every batch (lengths differ between tasks, and sorting would group each task).
    /// </summary>
    Uniform,
}

/// <summary>
/// The batches of one epoch: examples shuffled with a seed, then (<see cref="BatchOrder.LengthSorted"/>)
/// within windows of <see cref="WindowBatches"/> batches sorted by length so a batch holds examples of
/// similar length (little padding), and the batch order shuffled again so lengths do not trend over the epoch.
/// <see cref="BatchOrder.Uniform"/> skips the sort and keeps the rest, so data of one length batches
/// the same either way.
/// </summary>
public static class BatchPlan
{
    /// <summary>How many batches' worth of examples are sorted by length together.</summary>
    public const int WindowBatches = 50;

    /// <summary>Index batches covering every example once; the last may be smaller.</summary>
    public static IReadOnlyList<int[]> ForEpoch(IReadOnlyList<int> lengths, int batchSize, int seed, BatchOrder order = BatchOrder.LengthSorted)
    {
        ArgumentNullException.ThrowIfNull(lengths);
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var random = new Shuffler(seed);
        int[] shuffledExamples = Enumerable.Range(0, lengths.Count).ToArray();
        random.Shuffle(shuffledExamples);
        var batches = new List<int[]>();
        int window = batchSize * WindowBatches;
        for (int start = 0; start < shuffledExamples.Length; start += window)
        {
            // Stable sort by length inside the window; ties keep the shuffled order.
            IEnumerable<int> chunkOrder = shuffledExamples.Skip(start).Take(window);
            int[] chunk = [.. order == BatchOrder.LengthSorted ? chunkOrder.OrderBy(i => lengths[i]) : chunkOrder];
            for (int b = 0; b < chunk.Length; b += batchSize)
            {
                batches.Add(chunk[b..Math.Min(b + batchSize, chunk.Length)]);
            }
        }

        int[][] shuffled = [.. batches];
        random.Shuffle(shuffled);
        return shuffled;
    }

    /// <summary>Batches in order without shuffling or sorting (evaluation).</summary>
    public static IReadOnlyList<int[]> Sequential(int count, int batchSize)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(batchSize, 1);
        var batches = new List<int[]>();
        for (int start = 0; start < count; start += batchSize)
        {
            batches.Add([.. Enumerable.Range(start, Math.Min(batchSize, count - start))]);
        }

        return batches;
    }
}

/// <summary>The learning-rate multiplier of a step within a task: linear warm-up (the first step already moves), then the schedule.</summary>
public static class LearningRate
{
    /// <summary>Factor for 0-based <paramref name="step"/> of <paramref name="totalSteps"/>; warm-up lasts ⌈ratio·total⌉ steps and ends at 1.</summary>
    public static double Factor(LrSchedule schedule, double warmupRatio, int step, int totalSteps)
    {
        int warmup = (int)Math.Ceiling(warmupRatio * totalSteps);
        if (step < warmup)
        {
            return (step + 1) / (double)warmup;
        }

        // As transformers' schedules: the first step after warm-up runs at the full rate, the last one
        // just above zero (a step at rate zero would be wasted).
        double progress = (step - warmup) / (double)Math.Max(1, totalSteps - warmup);
        return schedule switch
        {
            LrSchedule.Constant => 1.0,
            LrSchedule.Linear => 1.0 - progress,
            LrSchedule.Cosine => 0.5 * (1 + Math.Cos(Math.PI * progress)),
            _ => throw new ArgumentOutOfRangeException(nameof(schedule)),
        };
    }
}
