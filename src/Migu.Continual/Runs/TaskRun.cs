using System.Diagnostics;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Migu.Continual.Distributed;
using Migu.Continual.Evaluation;
using Migu.Continual.Recipes;
using Migu.Continual.Strategies;
using Migu.Continual.Training;
using Migu.Core;
using Migu.Core.IO;
using Migu.Core.Optim;
using Migu.Models;
using TorchSharp.Modules;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Migu.Continual.Runs;

/// <summary>What every phase of one execution of a run works with.</summary>
internal sealed record RunContext
{
    public required Recipe Recipe { get; init; }

    public required RunStore Store { get; init; }

    /// <summary>The live model, on <see cref="Device"/>, with the method's strategy attached.</summary>
    public required LanguageModel Model { get; init; }

    public required IContinualStrategy Strategy { get; init; }

    public required Device Device { get; init; }

    /// <summary>The weights' dtype (bf16 weights train with fp32 masters in the optimizer).</summary>
    public ScalarType Weights { get; init; } = ScalarType.Float32;

    /// <summary>This rank's data-parallel job, or null in one process.</summary>
    public DataParallel? Parallel { get; init; }

    public required IRunObserver Observer { get; init; }

    /// <summary>Tests only: wraps each phase's optimizer to see what every step hands it (null in real runs).</summary>
    public OptimizerWatch? WatchOptimizer { get; init; }
}

/// <summary>
/// A test's view of a phase's optimizer steps: it gets the optimizer the phase made, the phase's MIGU
/// controller (null with MIGU off) and strategy, and returns the optimizer the phase uses (which
/// disposes the one it was given).
/// </summary>
internal delegate IStatefulOptimizer OptimizerWatch(IStatefulOptimizer optimizer, MiguController? migu, IContinualStrategy strategy);

/// <summary>
/// One training phase of a run: a task (or domain) trained after the previous ones, or the joint
/// phase of the multi-task bound, which trains once on every task (<see cref="ContinualMethod.JointPhase"/>).
/// </summary>
/// <param name="Index">Its place in the run: its checkpoint's number and its row of scores.</param>
/// <param name="Name">The task's or domain's name; <c>all</c> for the joint phase.</param>
/// <param name="Tasks">The tasks it trains on: its own, or all of them.</param>
/// <param name="Joint">Whether it is the joint phase.</param>
internal sealed record RunPhase(int Index, string Name, IReadOnlyList<int> Tasks, bool Joint)
{
    /// <summary>The task index MIGU begins: the joint phase is not a "first task" (MIGU applies to it when on).</summary>
    public int MiguTask => Joint ? 1 : Index;

    /// <summary>
    /// Uniform batches when the phase mixes tasks: the joint phase over several tasks, or a later
    /// phase of replay (which takes at least one example of every earlier task or domain); length-sorted
    /// batches for one task's own examples.
    /// </summary>
    public BatchOrder OrderOfBatches(double replayFraction) =>
        Tasks.Count > 1 || (Index > 0 && replayFraction > 0) ? BatchOrder.Uniform : BatchOrder.LengthSorted;

    /// <summary>A run's phases: one per task in order, or the one joint phase over all of them.</summary>
    public static IReadOnlyList<RunPhase> Plan(IReadOnlyList<string> names, bool joint) => joint
        ? [new RunPhase(0, "all", [.. Enumerable.Range(0, names.Count)], Joint: true)]
        : [.. names.Select((name, i) => new RunPhase(i, name, [i], Joint: false))];
}

/// <summary>One scoring of every scored task: accuracy and macro-F1 per task (fractions) and each scored example's answer.</summary>
public sealed record PhaseScores(IReadOnlyList<double> Accuracy, IReadOnlyList<double> MacroF1, IReadOnlyList<IReadOnlyList<string>> Predictions);

/// <summary>
/// The lifecycle of a run, written once for fine-tuning and continual pre-training: resume from the
/// store → baseline → for each phase: begin the task → MIGU → optimizer → mid-task resume → train
/// (<see cref="TaskTrainer"/>, with the loss log, TensorBoard, progress and any probe as step sinks)
/// → end the task → one checkpoint commit → scores → metrics.json written last, the commit point of
/// the phase. A runner supplies its phases' training data and its evaluator (the abstract members).
/// </summary>
internal abstract class TaskRun(RunContext run)
{
    private static readonly JsonSerializerOptions PredictionJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private double secondsBefore;

    protected RunContext Run => run;

    protected Recipe Recipe => run.Recipe;

    protected RunStore Store => run.Store;

    /// <summary>What run.log calls a phase: task or domain.</summary>
    protected abstract string Noun { get; }

    /// <summary>What run.log calls the run when it starts, resumes and finishes.</summary>
    protected abstract string Title { get; }

    protected abstract IReadOnlyList<RunPhase> Phases { get; }

    /// <summary>The metrics' columns, in order.</summary>
    protected abstract IReadOnlyList<string> Columns { get; }

    /// <summary>The tasks a score row covers (one per column), whose answers are written to predictions/; empty when nothing is scored.</summary>
    protected abstract IReadOnlyList<LoadedTask> ScoredTasks { get; }

    /// <summary>Whether the run scores once, a single row summarised as the joint bound is (a joint phase; end tasks after the last domain only).</summary>
    protected abstract bool ScoresOnce { get; }

    /// <summary>What TensorBoard's scalars are filed under (train, pretrain).</summary>
    protected virtual string ScalarPrefix => "train";

    public RunMetrics Execute(CancellationToken cancel)
    {
        RunMetrics metrics = Store.ReadMetrics() ?? new RunMetrics
        {
            Tasks = Columns,
            AccuracyMatrix = [],
            MacroF1Matrix = [],
            TestSizes = ScoredTasks.Count > 0 ? [.. ScoredTasks.Select(t => t.Test.Count)] : null,
        };
        if (!metrics.Tasks.SequenceEqual(Columns))
        {
            throw new MiguUserException($"{Store.MetricsPath}: its tasks ({string.Join(", ", metrics.Tasks)}) are not this run's");
        }

        secondsBefore = metrics.TotalSeconds;
        int done = metrics.Timings.Count;
        run.Parallel?.CheckSameView($"{done} phase(s) done, baseline {(metrics.BaselineAccuracy is null ? "absent" : "present")}, finished {metrics.Finished}");
        if (metrics.Finished)
        {
            run.Observer.Info($"{Store.Root} holds a finished run; nothing to do");
            return metrics;
        }

        Starting(done);
        Store.Log(done == 0 && metrics.BaselineAccuracy is null ? $"{Title} started" : $"{Title} resumed after {done} of {Phases.Count} {Noun}(s)");
        foreach (string note in ScoredTasks.Select(t => t.Data.LabelsNote).OfType<string>())
        {
            Store.Log(note); // labels taken from the data rather than a labels.json
        }

        if (done > 0)
        {
            run.Strategy.LoadCheckpoint(Store.TaskCheckpoint(done - 1, Phases[done - 1].Name));
        }
        else
        {
            metrics = Baseline(metrics);
        }

        foreach (RunPhase phase in Phases.Skip(done))
        {
            metrics = Train(phase, metrics, cancel);
        }

        metrics = Summarize(metrics) with { Finished = true, TotalSeconds = Elapsed() };
        Store.WriteMetrics(metrics);
        Store.Log(Finished(metrics));
        return metrics;
    }

    /// <summary>Before anything else of an execution that is not finished: <paramref name="done"/> phases are committed.</summary>
    protected virtual void Starting(int done)
    {
    }

    /// <summary>Before the first phase: the scores of the untrained model (the baseline forward transfer needs), when the recipe asks for them.</summary>
    protected virtual RunMetrics Baseline(RunMetrics metrics)
    {
        if (!Recipe.Eval.Baseline || ScoredTasks.Count == 0 || metrics.BaselineAccuracy is not null || Evaluate(null, null) is not { } scores)
        {
            return metrics;
        }

        metrics = metrics with { BaselineAccuracy = scores.Accuracy, BaselineMacroF1 = scores.MacroF1, TotalSeconds = Elapsed() };
        Store.WriteMetrics(metrics);
        return metrics;
    }

    /// <summary>What <paramref name="phase"/> trains on, with the recipe's settings in force for it.</summary>
    protected abstract TaskTrainingPlan Plan(RunPhase phase);

    /// <summary>What it trains on, for run.log: "N steps on M examples".</summary>
    protected abstract string Describe(TaskTrainingPlan plan, int steps);

    /// <summary>What the strategy may use after the phase (EWC's Fisher), or null (a joint phase).</summary>
    protected abstract TaskEndContext? EndContext(RunPhase phase);

    /// <summary>Files a phase checkpoint holds beside the strategy's (the tokenizer; with adapters, a merged model).</summary>
    protected abstract void WriteCheckpointFiles(string directory);

    /// <summary>The scores after <paramref name="phase"/> (whose checkpoint is in <paramref name="checkpoint"/>), or before any training when both are null; null when this phase is not scored.</summary>
    protected abstract PhaseScores? Evaluate(RunPhase? phase, string? checkpoint);

    /// <summary>After a step of <paramref name="plan"/> (a probe's hook); the default does nothing.</summary>
    protected virtual void AfterStep(TaskTrainingPlan plan, StepRecord step, long globalStep)
    {
    }

    /// <summary>Before the phase's metrics are committed: the runner's own records of it.</summary>
    protected virtual void Recorded(RunPhase phase)
    {
    }

    /// <summary>run.log's line for a committed phase.</summary>
    protected abstract string Done(RunPhase phase, PhaseScores? scores);

    /// <summary>run.log's line for the finished run.</summary>
    protected abstract string Finished(RunMetrics metrics);

    /// <summary>Seconds of this run so far, across executions.</summary>
    protected double Elapsed() => secondsBefore + clock.Elapsed.TotalSeconds;

    /// <summary>Scores of every scored task from its answers, as one row.</summary>
    protected PhaseScores Score(IReadOnlyList<IReadOnlyList<string>> answers)
    {
        var accuracy = new double[ScoredTasks.Count];
        var macroF1 = new double[ScoredTasks.Count];
        for (int j = 0; j < ScoredTasks.Count; j++)
        {
            LoadedTask task = ScoredTasks[j];
            TaskScore score = TaskScore.Of(answers[j], [.. task.Test.Select(p => p.Target)], task.Labels);
            (accuracy[j], macroF1[j]) = (score.Accuracy, score.MacroF1);
        }

        return new PhaseScores(accuracy, macroF1, answers);
    }

    private RunMetrics Train(RunPhase phase, RunMetrics metrics, CancellationToken cancel)
    {
        run.Parallel?.Group.Barrier(); // rank 0 has written everything of the phase before
        string name = phase.Name;
        IContinualStrategy strategy = run.Strategy;
        IReadOnlyList<Parameter> parameters = strategy.BeginTask(phase.Index);
        MiguOptions? miguOptions = ContinualMethods.MiguOptionsFor(Recipe);
        using MiguController? migu = miguOptions is null ? null : new MiguController(strategy.MiguTargets(miguOptions), miguOptions);
        migu?.BeginTask(phase.MiguTask);
        if (migu is not null && run.Parallel is not null)
        {
            migu.MagnitudeReducer = run.Parallel.SumMagnitudes; // one mask from the whole batch, the same on every rank
        }

        TaskTrainingPlan plan = Plan(phase);
        TrainingSettings t = Recipe.Training;
        IReadOnlyList<Parameter> head = t.HeadLrScale is null ? [] : [.. LoraStrategy.HeadParameters(run.Model).Select(h => h.Parameter)];
        IStatefulOptimizer made = TrainingPrecision.AdamW(parameters, head, t.HeadLrScale, run.Weights, plan.Lr, t.Beta1, t.Beta2, t.Eps, t.WeightDecay);
        using IStatefulOptimizer optimizer = run.WatchOptimizer?.Invoke(made, migu, strategy) ?? made;
        var names = parameters.Select((p, i) => (p, i)).ToDictionary(x => x.p, x => $"p{x.i}", ReferenceEqualityComparer.Instance as IEqualityComparer<Parameter>);
        int totalSteps = plan.Steps().Count;
        long stepBase = metrics.Timings.Sum(x => (long)x.Steps);
        (int startStep, double trainSeconds, long tokens) = (0, 0, 0);
        MidTaskState? mid = MidTaskState.Read(Store.MidTaskDirectory) is { } m && m.TaskIndex == phase.Index ? m : null;
        run.Parallel?.CheckSameView($"task {name}: mid-task checkpoint at step {mid?.Step.ToString(CultureInfo.InvariantCulture) ?? "none"}");
        if (mid is not null)
        {
            strategy.LoadCheckpoint(Store.MidTaskDirectory);
            optimizer.ImportState(Safetensors.LoadStateDict(Path.Combine(Store.MidTaskDirectory, MidTaskState.OptimizerFile)), names);
            if (mid.MaskGenerator is string state)
            {
                migu?.ImportRandomState(Convert.FromBase64String(state)); // the masks continue where they were
            }

            (startStep, trainSeconds, tokens) = (mid.Step, mid.TrainSeconds, mid.Tokens);
            Store.Log($"{Noun} {name}: resumed at step {startStep} of {totalSteps}");
        }

        run.Parallel?.BroadcastFromMain(parameters);
        Store.TruncateLoss(stepBase + startStep);
        Store.Log($"{Noun} {name}: {Describe(plan, totalSteps)}");
        run.Observer.TrainingStarted(phase.Index, Phases.Count, name, totalSteps, startStep);
        var trainClock = Stopwatch.StartNew();
        using (TensorBoardLog? events = Store.Writes ? new TensorBoardLog(Store.EventsDirectory) : null)
        {
            new TaskTrainer(run.Model, run.Device, run.Parallel).Train(
                plan,
                optimizer,
                migu,
                () => strategy.ExtraLoss(phase.Index),
                startStep,
                step =>
                {
                    tokens += step.Tokens;
                    Store.AppendLoss(stepBase + step.Step, step, name, Elapsed());
                    events?.Scalar($"{ScalarPrefix}/loss", step.Loss + step.ExtraLoss, stepBase + step.Step);
                    events?.Scalar($"{ScalarPrefix}/lr", step.Lr, stepBase + step.Step);
                    run.Observer.StepDone(step, tokens / Math.Max(trainSeconds + trainClock.Elapsed.TotalSeconds, 1e-9));
                    AfterStep(plan, step, stepBase + step.Step);
                },
                done => WriteMidCheckpoint(phase, done, optimizer, migu, names, trainSeconds + trainClock.Elapsed.TotalSeconds, tokens),
                cancel);
        }

        trainSeconds += trainClock.Elapsed.TotalSeconds;
        run.Parallel?.CheckInSync(parameters, $"after training {name}");
        if (EndContext(phase) is { } end)
        {
            strategy.EndTask(end);
        }

        var evalClock = Stopwatch.StartNew();
        string checkpoint = Store.TaskCheckpoint(phase.Index, name);
        if (Store.Writes)
        {
            RunStore.WriteDirectory(checkpoint, directory =>
            {
                strategy.SaveCheckpoint(directory);
                WriteCheckpointFiles(directory);
            });
        }

        PhaseScores? scores = Evaluate(phase, checkpoint);
        var timing = new TaskTiming
        {
            Task = name,
            TrainSeconds = trainSeconds,
            EvalSeconds = evalClock.Elapsed.TotalSeconds,
            Steps = totalSteps,
            TrainTokens = tokens,
            TokensPerSecond = tokens / Math.Max(trainSeconds, 1e-9),
        };
        metrics = Summarize(metrics with
        {
            AccuracyMatrix = scores is null ? metrics.AccuracyMatrix : [.. metrics.AccuracyMatrix, scores.Accuracy],
            MacroF1Matrix = scores is null ? metrics.MacroF1Matrix : [.. metrics.MacroF1Matrix, scores.MacroF1],
            Timings = [.. metrics.Timings, timing],
            TotalSeconds = Elapsed(),
        });
        Recorded(phase);
        if (scores is not null && Store.Writes)
        {
            WritePredictions(phase, scores);
        }

        Store.WriteMetrics(metrics); // the commit point of the phase
        if (Store.Writes)
        {
            Forget(Store.MidTaskDirectory);
            if (Recipe.Training.KeepCheckpoints == CheckpointRetention.Last && phase.Index > 0)
            {
                Forget(Store.TaskCheckpoint(phase.Index - 1, Phases[phase.Index - 1].Name));
            }
        }

        Store.Log(Done(phase, scores));
        if (scores is not null)
        {
            run.Observer.PhaseFinished(metrics.AccuracyMatrix.Count - 1, metrics);
        }

        return metrics;
    }

    /// <summary>The derived measures of the rows so far (timings and sizes carried over): a joint row, or the accuracy matrix's.</summary>
    private RunMetrics Summarize(RunMetrics m)
    {
        RunMetrics scores = m.AccuracyMatrix.Count == 0 ? m
            : ScoresOnce
                ? RunMetricsCalculator.Joint(m.Tasks, m.AccuracyMatrix[^1], m.MacroF1Matrix[^1], m.BaselineAccuracy, m.BaselineMacroF1)
                : RunMetricsCalculator.Sequential(m.Tasks, m.AccuracyMatrix, m.MacroF1Matrix, m.BaselineAccuracy, m.BaselineMacroF1);
        return scores with { TestSizes = m.TestSizes, Timings = m.Timings, TotalSeconds = m.TotalSeconds, Finished = false };
    }

    private void WriteMidCheckpoint(RunPhase phase, int step, IStatefulOptimizer optimizer, MiguController? migu, IReadOnlyDictionary<Parameter, string> names, double seconds, long tokens)
    {
        if (!Store.Writes)
        {
            return; // every rank holds the same weights and optimizer state; rank 0 saves them
        }

        new MidTaskState
        {
            TaskIndex = phase.Index,
            Step = step,
            TrainSeconds = seconds,
            Tokens = tokens,
            MaskGenerator = migu?.ExportRandomState() is byte[] state ? Convert.ToBase64String(state) : null,
        }.Commit(Store.MidTaskDirectory, run.Strategy, optimizer, names);
        Store.Log($"{Noun} {phase.Name}: mid-{Noun} checkpoint at step {step}");
    }

    /// <summary>predictions/after-NN-NAME.jsonl: every scored example's task, index, answer and gold answer.</summary>
    private void WritePredictions(RunPhase phase, PhaseScores scores)
    {
        var lines = new List<string>();
        for (int j = 0; j < ScoredTasks.Count; j++)
        {
            LoadedTask task = ScoredTasks[j];
            for (int i = 0; i < scores.Predictions[j].Count; i++)
            {
                lines.Add(new JsonObject { ["task"] = task.Name, ["index"] = i, ["prediction"] = scores.Predictions[j][i], ["gold"] = task.Test[i].Target }.ToJsonString(PredictionJson));
            }
        }

        string path = Path.Combine(Store.Root, "predictions", $"after-{phase.Index + 1:00}-{phase.Name}.jsonl");
        RunStore.Writing(path, () => AtomicFile.WriteAllText(path, string.Join('\n', lines) + "\n"));
    }

    private static void Forget(string directory)
    {
        if (Directory.Exists(directory))
        {
            Directory.Delete(directory, recursive: true);
        }
    }
}
