using Migu.Continual.Recipes;

namespace Migu.Continual.Training;

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
