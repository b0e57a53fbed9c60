using System.Globalization;
using Migu.Continual.Recipes;
using Migu.Core;

namespace Migu.Continual.Data;

/// <summary>
/// The recipe's data options applied to a task, all stratified by label and seeded per task and
/// purpose (<see cref="SplitMix64.Derive"/>), so the same seed gives the same examples on any
/// machine and a task's sample does not depend on which other tasks are in the run.
/// <list type="number">
/// <item>Dev: when the task has no dev file and <c>dev_fraction</c> &gt; 0, round(fraction·N) training
/// examples (at least one, and at least one left to train on) move to dev.</item>
/// <item>Caps: train keeps at most <c>max_train</c>; test and dev, the splits a run scores, keep at most
/// <c>max_test</c> each.</item>
/// </list>
/// </summary>
public static class DataPreparation
{
    public static TaskData Apply(TaskData task, DataSettings settings, long seed)
    {
        Validate(settings);
        IReadOnlyList<Example> train = task.Train;
        IReadOnlyList<Example> dev = task.Dev;
        if (dev.Count == 0 && settings.DevFraction > 0)
        {
            int devCount = CountFor(settings.DevFraction, train.Count);
            if (devCount >= train.Count)
            {
                throw new MiguUserException(string.Create(
                    CultureInfo.InvariantCulture,
                    $"{task.Location}: data_options.dev_fraction {settings.DevFraction} would leave no training examples (train has {train.Count})"));
            }

            StratifiedSplit carved = StratifiedSampler.Split(train, task.Labels, devCount, SplitMix64.Derive(seed, task.Name, "dev-split"));
            dev = carved.Chosen;
            train = carved.Rest;
        }

        return task with
        {
            Train = Cap(train, task, settings.MaxTrain, seed, "train"),
            Dev = Cap(dev, task, settings.MaxTest, seed, "dev"),
            Test = Cap(task.Test, task, settings.MaxTest, seed, "test"),
        };
    }

    /// <summary>
    /// The replay sample of a finished task: round(fraction·N) of its training examples (at least
    /// one when the fraction is above zero), stratified, drawn once per task and seed.
    /// </summary>
    public static IReadOnlyList<Example> ReplaySample(TaskData task, double fraction, long seed)
    {
        if (!(fraction >= 0 && fraction <= 1))
        {
            throw new MiguUserException(string.Create(CultureInfo.InvariantCulture, $"replay.fraction: {fraction} is not in [0, 1]"));
        }

        return fraction == 0
            ? []
            : StratifiedSampler.Sample(task.Train, task.Labels, CountFor(fraction, task.Train.Count), SplitMix64.Derive(seed, task.Name, "replay"));
    }

    /// <summary>Checks the options alone, so a bad recipe fails before any data is read.</summary>
    public static void Validate(DataSettings settings)
    {
        TaskFields.Validate(settings);
        if (settings.MaxTrain is < 1)
        {
            throw new MiguUserException($"data_options.max_train: {settings.MaxTrain} is not a positive count");
        }

        if (settings.MaxTest is < 1)
        {
            throw new MiguUserException($"data_options.max_test: {settings.MaxTest} is not a positive count");
        }

        if (!(settings.DevFraction >= 0 && settings.DevFraction < 1))
        {
            throw new MiguUserException(string.Create(CultureInfo.InvariantCulture, $"data_options.dev_fraction: {settings.DevFraction} is not in [0, 1)"));
        }
    }

    // round(fraction·n) half away from zero, at least 1 for a positive fraction, at most n.
    private static int CountFor(double fraction, int n) =>
        Math.Min(n, Math.Max(1, (int)Math.Round(fraction * n, MidpointRounding.AwayFromZero)));

    private static IReadOnlyList<Example> Cap(IReadOnlyList<Example> split, TaskData task, int? max, long seed, string purpose) =>
        max is int cap && split.Count > cap
            ? StratifiedSampler.Sample(split, task.Labels, cap, SplitMix64.Derive(seed, task.Name, purpose))
            : split;
}
