using Migu.Continual.Prompts;
using System.Diagnostics;
using System.Text.Json;
using System.Text.Json.Nodes;
using Migu.Continual.Distributed;
using Migu.Continual.Evaluation;
using Migu.Continual.Recipes;
using Migu.Continual.Strategies;
using Migu.Continual.Training;
using Migu.Core;
using Migu.Core.Distributed;
using Migu.Core.IO;
using Migu.Core.Optim;
using Migu.Core.Runtime;
using Migu.Models;
using Migu.Models.Checkpoints;
using Migu.Models.Tokenizers;
using TorchSharp;
using TorchSharp.Modules;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Migu.Continual.Runs;

/// <summary>
/// Runs a recipe over its tasks: trains each task with the recipe's strategy (and MIGU), scores the
/// model on every task after each one (and before the first, for forward transfer), and keeps the
/// run store up to date so that running again on the same directory resumes where it stopped — at
/// the last finished task, or at a mid-task checkpoint — and ends with the same metrics.
/// A process started by a launcher (mpirun, srun, <c>migu run --nproc</c>, torchrun) is one rank of a
/// data-parallel run (<see cref="DataParallel"/>): each rank trains on its share of every batch and
/// scores its share of the prompts, and rank 0 alone writes the store and reports progress.
/// <paramref name="processGroup"/> gives the group directly instead (tests, embedding hosts).
/// </summary>
public sealed class ContinualRunner(
    Recipe recipe, IReadOnlyList<LoadedTask> tasks, string outDirectory, IRunObserver? observer = null, IProcessGroup? processGroup = null)
{
    // Hub ids become their cached snapshot directories here, so the run store records (and pins) the revision.
    private readonly Recipe recipe = recipe with { Model = HubCache.Resolve(recipe.Model), Tokenizer = recipe.Tokenizer is string t ? HubCache.Resolve(t) : null };
    private readonly IReadOnlyList<LoadedTask> tasks = tasks;
    private readonly IRunObserver observer = observer ?? SilentObserver.Instance;
    private Forgetting.ForgettingProbe? forgetting;

    public RunMetrics Run(CancellationToken cancel = default)
    {
        TrainingChecks.Validate(recipe); // before any run directory exists
        if (recipe.Pretrain is not null)
        {
            // Continual pre-training has its own loop over domains of text; the tasks are its end tasks.
            if (processGroup is not null || LaunchInfo.FromEnvironment() is not null)
            {
                throw new MiguUserException("continual pre-training runs in one process: run this recipe without --nproc or a launcher");
            }

            return new Pretraining.ContinualPretrainingRunner(recipe, tasks, outDirectory, observer).Run(cancel);
        }

        if (tasks.Count == 0)
        {
            throw new MiguUserException("the run has no tasks");
        }

        LaunchInfo? launch = processGroup is null ? LaunchInfo.FromEnvironment() : null;
        Device device = TorchRuntime.ParseDevice(launch is null ? recipe.Device : ProcessGroups.DeviceFor(launch, recipe.Device, VisibleGpus()));
        using IProcessGroup? joined = launch is null ? null : ProcessGroups.Create(launch, device);
        DataParallel? parallel = (processGroup ?? joined) is { } group ? new DataParallel(group) : null;
        try
        {
            return Run(device, parallel, cancel);
        }
        catch (Exception e) when (parallel is not null && e is not OperationCanceledException)
        {
            parallel.Group.MarkFailed(); // its peers may be waiting in a collective: end the job, not just this rank
            throw;
        }
    }

    private RunMetrics Run(Device device, DataParallel? parallel, CancellationToken cancel)
    {
        bool main = parallel?.IsMain ?? true;
        if (recipe.Forgetting is { } general)
        {
            if (parallel is not null)
            {
                throw new MiguUserException("the forgetting probe runs in one process: run this recipe without --nproc or a launcher");
            }

            Forgetting.ForgettingProbe.CheckFiles(general); // before the run directory exists
        }

        RunStore store = main ? RunStore.Open(outDirectory, recipe) : RunStore.OpenForReading(outDirectory);
        IRunObserver shown = main ? observer : SilentObserver.Instance;
        TorchSeed.All(recipe.Seed);
        var (model, tokenizer) = RunModel.Create(recipe.Model, recipe.Tokenizer, device);
        using var ownedModel = model;
        ScalarType weights = TrainingPrecision.Resolve(recipe.Training.Dtype, device);
        if (weights != ScalarType.Float32)
        {
            model.to(weights);
        }

        parallel?.BroadcastFromMain(model.parameters()); // every rank starts from rank 0's weights
        ExampleEncoder encoder = CreateEncoder(model, tokenizer, shown);
        CheckLabelsFit(encoder);
        forgetting = recipe.Forgetting is null ? null : new Forgetting.ForgettingProbe(recipe, model, tokenizer, encoder, tasks, device, store.Root, shown);
        string? baseModel = null;
        if (StrategyFactory.UsesAdapters(recipe))
        {
            baseModel = SaveBase(store, model);
        }

        using IContinualStrategy strategy = StrategyFactory.Create(recipe, model, [.. tasks.Select(t => t.Name)], baseModel);
        var session = new Session(this, store, model, encoder, strategy, device, weights, parallel, shown);
        return session.Run(cancel);
    }

    private static int VisibleGpus() => cuda.is_available() ? cuda.device_count() : 0;

    /// <summary>
    /// Adapters need their base: a checkpoint directory is named as it is; a preset's random weights
    /// are saved once, with the tokenizer, as checkpoints/base (so the adapters load in PEFT too).
    /// </summary>
    private string SaveBase(RunStore store, LanguageModel model)
    {
        if (File.Exists(Path.Combine(recipe.Model, "config.json")))
        {
            return Path.GetFullPath(recipe.Model);
        }

        string dir = Path.Combine(store.CheckpointsDirectory, "base");
        if (store.Writes && !File.Exists(Path.Combine(dir, "config.json")))
        {
            string temp = dir + ".tmp";
            if (Directory.Exists(temp))
            {
                Directory.Delete(temp, recursive: true);
            }

            Migu.Models.Checkpoints.ModelCheckpoint.Save(model, temp);
            if (recipe.Tokenizer is null)
            {
                EmbeddedTokenizer.WriteCompactFiles(temp);
            }

            RunStore.CommitDirectory(temp, dir);
        }

        return dir;
    }

    /// <summary>A label the target budget would cut could never be produced, and would silently score zero.</summary>
    private void CheckLabelsFit(ExampleEncoder encoder)
    {
        foreach (LoadedTask task in tasks)
        {
            foreach (string label in task.Labels)
            {
                int needed = encoder.TargetTokens(label);
                if (needed > encoder.MaxTargetLength)
                {
                    throw new MiguUserException(
                        $"training.max_target_length {encoder.MaxTargetLength} cannot hold label '{label}' of task {task.Name} ({needed} tokens with EOS); raise --max-target-len");
                }
            }
        }
    }

    private ExampleEncoder CreateEncoder(LanguageModel model, ITextTokenizer tokenizer, IRunObserver shown)
    {
        int source = recipe.Training.MaxSourceLength;
        int target = recipe.Training.MaxTargetLength;
        if (RunModel.MaxPositions(model) is long positions && source + target > positions)
        {
            // A decoder reads prompt and answer as one sequence; keep it within the model's positions.
            source = (int)Math.Max(8, positions - target);
            shown.Info($"prompts are cut to {source} tokens: the model has {positions} positions and answers take up to {target}");
        }

        return new ExampleEncoder(tokenizer, model.Family, source, target);
    }

    /// <summary>One execution of the run: the live model, strategy and store.</summary>
    private sealed class Session(
        ContinualRunner owner, RunStore store, LanguageModel model,
        ExampleEncoder encoder, IContinualStrategy strategy, Device device, ScalarType weights, DataParallel? parallel, IRunObserver observer)
    {
        private readonly Recipe recipe = owner.recipe;
        private readonly IReadOnlyList<LoadedTask> tasks = owner.tasks;
        private readonly Stopwatch clock = Stopwatch.StartNew();
        private double secondsBefore;

        private bool Joint => recipe.Method == ContinualMethod.Mtl;

        /// <summary>Training phases: one per task, or one joint phase for the multi-task bound.</summary>
        private int Phases => Joint ? 1 : tasks.Count;

        public RunMetrics Run(CancellationToken cancel)
        {
            RunMetrics metrics = store.ReadMetrics() ?? new RunMetrics
            {
                Tasks = [.. tasks.Select(t => t.Name)],
                AccuracyMatrix = [],
                MacroF1Matrix = [],
                TestSizes = [.. tasks.Select(t => t.Test.Count)],
            };
            if (!metrics.Tasks.SequenceEqual(tasks.Select(t => t.Name)))
            {
                throw new MiguUserException($"{store.MetricsPath}: its tasks ({string.Join(", ", metrics.Tasks)}) are not this run's");
            }

            secondsBefore = metrics.TotalSeconds;
            int done = metrics.AccuracyMatrix.Count;
            parallel?.CheckSameView($"{done} phase(s) done, baseline {(metrics.BaselineAccuracy is null ? "absent" : "present")}, finished {metrics.Finished}");
            if (metrics.Finished)
            {
                observer.Info($"{store.Root} holds a finished run; nothing to do");
                return metrics;
            }

            store.Log(done == 0 && metrics.BaselineAccuracy is null ? "run started" : $"run resumed after {done} of {Phases} phase(s)");
            foreach (string note in tasks.Select(t => t.Data.LabelsNote).OfType<string>())
            {
                store.Log(note); // labels taken from the data rather than a labels.json
            }

            if (done > 0)
            {
                strategy.LoadCheckpoint(store.TaskCheckpoint(done - 1, PhaseName(done - 1)));
            }

            if (recipe.Eval.Baseline && done == 0 && metrics.BaselineAccuracy is null)
            {
                var (acc, f1, _) = EvaluateAll("baseline (before training)");
                metrics = metrics with { BaselineAccuracy = acc, BaselineMacroF1 = f1, TotalSeconds = Elapsed() };
                store.WriteMetrics(metrics);
            }

            owner.forgetting?.Baseline();
            for (int phase = done; phase < Phases; phase++)
            {
                metrics = RunPhase(phase, metrics, cancel);
            }

            metrics = Summarize(metrics) with { Finished = true, TotalSeconds = Elapsed() };
            store.WriteMetrics(metrics);
            store.Log($"run finished: ACC {metrics.Acc:P1}");
            return metrics;
        }

        private RunMetrics RunPhase(int phase, RunMetrics metrics, CancellationToken cancel)
        {
            parallel?.Group.Barrier(); // rank 0 has written everything of the phase before
            string name = PhaseName(phase);
            IReadOnlyList<Parameter> parameters = strategy.BeginTask(phase);
            MiguOptions? miguOptions = StrategyFactory.MiguOptionsFor(recipe);
            using MiguController? migu = miguOptions is null ? null : new MiguController(strategy.MiguTargets(miguOptions), miguOptions);
            // The joint multi-task phase is not a "first task": MIGU applies to it when on.
            migu?.BeginTask(Joint ? 1 : phase);
            if (migu is not null && parallel is not null)
            {
                migu.MagnitudeReducer = parallel.SumMagnitudes; // one mask from the whole batch, the same on every rank
            }

            TaskOverride? over = recipe.PerTask?.GetValueOrDefault(name);
            TrainingSettings t = recipe.Training;
            using IStatefulOptimizer optimizer = TrainingPrecision.AdamW(parameters, weights, over?.Lr ?? t.Lr, t.Beta1, t.Beta2, t.Eps, t.WeightDecay);
            var names = parameters.Select((p, i) => (p, i)).ToDictionary(x => x.p, x => $"p{x.i}", ReferenceEqualityComparer.Instance as IEqualityComparer<Parameter>);

            IReadOnlyList<PromptedExample> pairs = Joint ? [.. tasks.SelectMany(x => x.Train)] : strategy.TrainingData(phase, tasks);
            if (pairs.Count == 0)
            {
                throw new MiguUserException($"task {name} has no training examples");
            }

            TaskTrainingPlan plan = TaskTrainingPlan.FromRecipe(recipe, phase, name, new EncodedTaskData([.. pairs.Select(encoder.Encode)], encoder)) with
            {
                Epochs = over?.Epochs ?? t.Epochs,
                Batch = over?.Batch ?? t.Batch,
                Lr = over?.Lr ?? t.Lr,
            };
            int totalSteps = plan.Steps().Count;
            long stepBase = metrics.Timings.Sum(x => (long)x.Steps);
            int startStep = 0;
            double trainSeconds = 0;
            long tokens = 0;
            MidTaskState? mid = MidTaskState.Read(store.MidTaskDirectory) is { } m && m.TaskIndex == phase ? m : null;
            parallel?.CheckSameView($"task {name}: mid-task checkpoint at step {mid?.Step.ToString(System.Globalization.CultureInfo.InvariantCulture) ?? "none"}");
            if (mid is not null)
            {
                strategy.LoadCheckpoint(store.MidTaskDirectory);
                optimizer.ImportState(Safetensors.LoadStateDict(Path.Combine(store.MidTaskDirectory, MidTaskState.OptimizerFile)), names);
                startStep = mid.Step;
                trainSeconds = mid.TrainSeconds;
                tokens = mid.Tokens;
                store.Log($"task {name}: resumed at step {startStep} of {totalSteps}");
            }

            parallel?.BroadcastFromMain(parameters);
            store.TruncateLoss(stepBase + startStep);
            store.Log($"task {name}: training {totalSteps} steps on {pairs.Count} examples");
            observer.TrainingStarted(phase, Phases, name, totalSteps, startStep);
            var trainClock = Stopwatch.StartNew();
            using (TensorBoardLog? events = store.Writes ? new TensorBoardLog(store.EventsDirectory) : null)
            {
                new TaskTrainer(model, device, parallel).Train(
                    plan,
                    optimizer,
                    migu,
                    () => strategy.ExtraLoss(phase),
                    startStep,
                    step =>
                    {
                        tokens += step.Tokens;
                        double seconds = trainSeconds + trainClock.Elapsed.TotalSeconds;
                        store.AppendLoss(stepBase + step.Step, step, name, Elapsed());
                        events?.Scalar("train/loss", step.Loss + step.ExtraLoss, stepBase + step.Step);
                        events?.Scalar("train/lr", step.Lr, stepBase + step.Step);
                        observer.StepDone(step, tokens / Math.Max(seconds, 1e-9));
                        owner.forgetting?.AfterStep(plan, step, stepBase + step.Step, migu);
                    },
                    done => WriteMidCheckpoint(phase, done, optimizer, names, trainSeconds + trainClock.Elapsed.TotalSeconds, tokens),
                    cancel);
            }

            trainSeconds += trainClock.Elapsed.TotalSeconds;
            parallel?.CheckInSync(parameters, $"after training {name}");
            if (!Joint)
            {
                var own = tasks[phase].Train.Select(encoder.Encode).ToList();
                strategy.EndTask(new TaskEndContext(phase, own, LossOf, recipe.Seed));
            }

            var evalClock = Stopwatch.StartNew();
            var (accRow, f1Row, predictions) = EvaluateAll($"after {name}");
            double evalSeconds = evalClock.Elapsed.TotalSeconds;

            if (store.Writes)
            {
                WriteTaskCheckpoint(phase, name, predictions);
            }

            var timing = new TaskTiming
            {
                Task = name,
                TrainSeconds = trainSeconds,
                EvalSeconds = evalSeconds,
                Steps = totalSteps,
                TrainTokens = tokens,
                TokensPerSecond = tokens / Math.Max(trainSeconds, 1e-9),
            };
            metrics = Summarize(metrics with
            {
                AccuracyMatrix = [.. metrics.AccuracyMatrix, accRow],
                MacroF1Matrix = [.. metrics.MacroF1Matrix, f1Row],
                Timings = [.. metrics.Timings, timing],
                TotalSeconds = Elapsed(),
            });
            store.WriteMetrics(metrics); // the commit point of the phase
            store.Log($"task {name}: done, accuracy row [{string.Join(", ", accRow.Select(a => a.ToString("P1", System.Globalization.CultureInfo.InvariantCulture)))}]");
            if (store.Writes && recipe.Training.KeepCheckpoints == "last" && phase > 0)
            {
                string previous = store.TaskCheckpoint(phase - 1, PhaseName(phase - 1));
                if (Directory.Exists(previous))
                {
                    Directory.Delete(previous, recursive: true);
                }
            }

            observer.PhaseFinished(phase, metrics);
            return metrics;
        }

        /// <summary>The derived measures of the rows so far; timings and sizes carried over.</summary>
        private RunMetrics Summarize(RunMetrics m)
        {
            RunMetrics scores = Joint
                ? RunMetricsCalculator.Joint(m.Tasks, m.AccuracyMatrix[0], m.MacroF1Matrix[0], m.BaselineAccuracy, m.BaselineMacroF1)
                : RunMetricsCalculator.Sequential(m.Tasks, m.AccuracyMatrix, m.MacroF1Matrix, m.BaselineAccuracy, m.BaselineMacroF1);
            return scores with { TestSizes = m.TestSizes, Timings = m.Timings, TotalSeconds = m.TotalSeconds, Finished = false };
        }

        private Tensor LossOf(IReadOnlyList<EncodedExample> examples) =>
            model.forward(encoder.Collate(examples, device)).Loss
            ?? throw new InvalidOperationException("the model returned no loss for a batch with labels");

        private void WriteTaskCheckpoint(int phase, string name, string[][] predictions)
        {
            string checkpoint = store.TaskCheckpoint(phase, name);
            string temp = checkpoint + ".tmp";
            if (Directory.Exists(temp))
            {
                Directory.Delete(temp, recursive: true);
            }

            Directory.CreateDirectory(temp);
            strategy.SaveCheckpoint(temp);
            WriteTokenizerFiles(temp);
            RunStore.CommitDirectory(temp, checkpoint);
            WritePredictions(phase, name, predictions);
            if (Directory.Exists(store.MidTaskDirectory))
            {
                Directory.Delete(store.MidTaskDirectory, recursive: true);
            }
        }

        private (double[] Accuracy, double[] MacroF1, string[][] Predictions) EvaluateAll(string title)
        {
            var predictor = new TaskPredictor(model, encoder, recipe.Eval, device);
            var acc = new double[tasks.Count];
            var f1 = new double[tasks.Count];
            var predictions = new string[tasks.Count][];
            int total = tasks.Sum(x => x.Test.Count);
            observer.EvaluationStarted(title, total);
            int before = 0;
            for (int j = 0; j < tasks.Count; j++)
            {
                LoadedTask task = tasks[j];
                int offset = before;
                string[] prompts = [.. task.Test.Select(p => p.Prompt)];
                IReadOnlyList<string> answers = parallel is null
                    ? predictor.Predict(prompts, task.Labels, n => observer.EvaluationProgress(offset + n))
                    : parallel.GatherAnswers(
                        predictor.PredictShard(prompts, task.Labels, parallel.Rank, parallel.WorldSize, n => observer.EvaluationProgress(offset + Math.Min(n * parallel.WorldSize, prompts.Length))),
                        prompts.Length);
                TaskScore score = TaskScore.Of(answers, [.. task.Test.Select(p => p.Target)], task.Labels);
                (acc[j], f1[j]) = (score.Accuracy, score.MacroF1);
                predictions[j] = [.. answers];
                before += task.Test.Count;
            }

            observer.EvaluationFinished();
            return (acc, f1, predictions);
        }

        private void WriteMidCheckpoint(int phase, int step, IStatefulOptimizer optimizer, IReadOnlyDictionary<Parameter, string> names, double seconds, long tokens)
        {
            if (!store.Writes)
            {
                return; // every rank holds the same weights and optimizer state; rank 0 saves them
            }

            new MidTaskState { TaskIndex = phase, Step = step, TrainSeconds = seconds, Tokens = tokens }.Commit(store.MidTaskDirectory, strategy, optimizer, names);
            store.Log($"task {PhaseName(phase)}: mid-task checkpoint at step {step}");
        }

        /// <summary>predictions/after-01-agnews.jsonl: every scored example's task, prediction and gold answer.</summary>
        private void WritePredictions(int phase, string name, string[][] predictions)
        {
            var lines = new List<string>();
            for (int j = 0; j < tasks.Count; j++)
            {
                for (int i = 0; i < predictions[j].Length; i++)
                {
                    lines.Add(new JsonObject { ["task"] = tasks[j].Name, ["index"] = i, ["prediction"] = predictions[j][i], ["gold"] = tasks[j].Test[i].Target }
                        .ToJsonString(new JsonSerializerOptions { Encoder = System.Text.Encodings.Web.JavaScriptEncoder.UnsafeRelaxedJsonEscaping }));
                }
            }

            AtomicFile.WriteAllText(Path.Combine(store.Root, "predictions", $"after-{phase + 1:00}-{name}.jsonl"), string.Join('\n', lines) + "\n");
        }

        /// <summary>Checkpoints carry the tokenizer, so each loads on its own (migu eval, transformers).</summary>
        private void WriteTokenizerFiles(string directory)
        {
            string? source = recipe.Tokenizer ?? (File.Exists(Path.Combine(recipe.Model, "config.json")) ? recipe.Model : null);
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

        private static readonly string[] TokenizerFileNames =
            ["tokenizer.json", "tokenizer_config.json", "special_tokens_map.json", "spiece.model", "tokenizer.model", "vocab.json", "merges.txt", "generation_config.json"];

        private string PhaseName(int phase) => Joint ? "all" : tasks[phase].Name;

        private double Elapsed() => secondsBefore + clock.Elapsed.TotalSeconds;
    }
}
