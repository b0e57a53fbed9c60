using System.Globalization;
using Migu.Continual.Forgetting;
using Migu.Continual.Prompts;
using Migu.Continual.Recipes;
using Migu.Continual.Strategies;
using Migu.Continual.Training;
using Migu.Models.Tokenizers;

namespace Migu.Continual.Runs;

/// <summary>
/// One execution of a continual fine-tuning run: the tasks' training data comes from the run's
/// encoding, the scores from its evaluator (every task after each phase, and before the first),
/// and a forgetting probe, when the recipe has one, watches every step.
/// </summary>
internal sealed class FineTuningSession(RunContext run, IReadOnlyList<LoadedTask> tasks, ITaskEncoding encoding, ITaskEvaluator evaluator, ForgettingProbe? forgetting)
    : TaskRun(run)
{
    private static readonly string[] TokenizerFileNames =
        ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "spiece.model", "tokenizer.model", "vocab.json", "merges.txt", "generation_config.json"];

    private readonly IReadOnlyList<RunPhase> phases = RunPhase.Plan([.. tasks.Select(t => t.Name)], ContinualMethods.Get(run.Recipe.Method).JointPhase);

    protected override string Noun => "task";

    protected override string Title => "run";

    protected override IReadOnlyList<RunPhase> Phases => phases;

    protected override IReadOnlyList<string> Columns => [.. tasks.Select(t => t.Name)];

    protected override IReadOnlyList<LoadedTask> ScoredTasks => tasks;

    protected override bool ScoresOnce => phases[0].Joint;

    protected override RunMetrics Baseline(RunMetrics metrics)
    {
        metrics = base.Baseline(metrics);
        forgetting?.Baseline();
        return metrics;
    }

    /// <summary>
    /// The task's examples (a strategy may add replayed ones), or every task's for the joint phase;
    /// per-task overrides applied; a phase that mixes tasks batches them uniformly.
    /// </summary>
    protected override TaskTrainingPlan Plan(RunPhase phase)
    {
        IReadOnlyList<PromptedExample> examples = phase.Joint ? [.. phase.Tasks.SelectMany(i => tasks[i].Train)] : Run.Strategy.TrainingData(phase.Index, tasks);
        if (examples.Count == 0)
        {
            throw new Migu.Core.MiguUserException($"task {phase.Name} has no training examples");
        }

        TaskOverride? over = Recipe.PerTask?.GetValueOrDefault(phase.Name);
        TrainingSettings t = Recipe.Training;
        return TaskTrainingPlan.FromRecipe(Recipe, phase.Index, phase.Name, encoding.TrainingData(examples)) with
        {
            Epochs = over?.Epochs ?? t.Epochs,
            Batch = over?.Batch ?? t.Batch,
            Lr = over?.Lr ?? t.Lr,
            Order = phase.OrderOfBatches(Run.Strategy.ReplayFraction),
        };
    }

    protected override string Describe(TaskTrainingPlan plan, int steps) => $"training {steps} steps on {plan.Data.Count} examples";

    protected override TaskEndContext? EndContext(RunPhase phase) =>
        phase.Joint ? null : encoding.EndContext(phase.Index, tasks[phase.Index].Train, Recipe.Seed);

    /// <summary>Checkpoints carry the tokenizer, so each loads on its own (migu eval, transformers).</summary>
    protected override void WriteCheckpointFiles(string directory)
    {
        string? source = Recipe.Tokenizer ?? (Migu.Models.Checkpoints.ModelCheckpoint.IsCheckpointDirectory(Recipe.Model) ? Recipe.Model : null);
        if (source is null)
        {
            EmbeddedTokenizer.WriteCompactFiles(directory);
            return;
        }

        foreach (string file in TokenizerFileNames.Where(f => File.Exists(Path.Combine(source, f))))
        {
            File.Copy(Path.Combine(source, file), Path.Combine(directory, file), overwrite: true);
        }
    }

    /// <summary>Every task's answers; with ranks, each scores its share and all gather the whole.</summary>
    protected override PhaseScores Evaluate(RunPhase? phase, string? checkpoint)
    {
        var parallel = Run.Parallel;
        IRunObserver observer = Run.Observer;
        observer.EvaluationStarted(phase is null ? "baseline (before training)" : $"after {phase.Name}", tasks.Sum(x => x.Test.Count));
        var answers = new IReadOnlyList<string>[tasks.Count];
        int before = 0;
        for (int j = 0; j < tasks.Count; j++)
        {
            LoadedTask task = tasks[j];
            int offset = before;
            int count = task.Test.Count;
            answers[j] = parallel is null
                ? evaluator.Answers(task, n => observer.EvaluationProgress(offset + n))
                : parallel.GatherAnswers(
                    evaluator.ShareOfAnswers(task, parallel.Rank, parallel.WorldSize, n => observer.EvaluationProgress(offset + Math.Min(n * parallel.WorldSize, count))),
                    count);
            before += count;
        }

        observer.EvaluationFinished();
        return Score(answers);
    }

    protected override void AfterStep(TaskTrainingPlan plan, StepRecord step, long globalStep) => forgetting?.AfterStep(plan, step, globalStep);

    protected override string Done(RunPhase phase, PhaseScores? scores) =>
        $"task {phase.Name}: done, accuracy row [{string.Join(", ", scores!.Accuracy.Select(a => a.ToString("P1", CultureInfo.InvariantCulture)))}]";

    protected override string Finished(RunMetrics metrics) => $"run finished: ACC {metrics.Acc:P1}";
}
