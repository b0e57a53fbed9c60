using System.Diagnostics;
using System.Globalization;
using System.Text.Encodings.Web;
using System.Text.Json;
using System.Text.Json.Nodes;
using Migu.Continual.Evaluation;
using Migu.Continual.Recipes;
using Migu.Continual.Runs;
using Migu.Continual.Strategies;
using Migu.Continual.Training;
using Migu.Core;
using Migu.Core.IO;
using Migu.Core.Lora;
using Migu.Core.Optim;
using TorchSharp.Modules;
using TorchSharp.PyBridge;
using static TorchSharp.torch;

namespace Migu.Continual.Pretraining;

/// <summary>
/// One execution of a continual pre-training run: resumes from the run store, trains the domains
/// still to do (with mid-domain checkpoints), measures held-out loss and the end tasks, and commits
/// each domain by writing metrics.json last.
/// </summary>
internal sealed class PretrainingSession(PretrainingRun run, IContinualStrategy strategy, LoraAdapters? lora)
{
    private static readonly JsonSerializerOptions PredictionJson = new() { Encoder = JavaScriptEncoder.UnsafeRelaxedJsonEscaping };
    private readonly Recipe recipe = run.Recipe;
    private readonly RunStore store = run.Store;
    private readonly IRunObserver observer = run.Observer;
    private readonly Stopwatch clock = Stopwatch.StartNew();
    private double secondsBefore;

    private int DomainCount => run.Domains.Count;

    private string ReportPath => Path.Combine(store.Root, PretrainingReport.FileName);

    public RunMetrics Run(CancellationToken cancel)
    {
        IReadOnlyList<string> columns = run.EndTasks.Count > 0 ? [.. run.EndTasks.Select(t => t.Name)] : [.. run.Domains.Select(d => d.Name)];
        RunMetrics metrics = store.ReadMetrics() ?? new RunMetrics
        {
            Tasks = columns,
            AccuracyMatrix = [],
            MacroF1Matrix = [],
            TestSizes = run.EndTasks.Count > 0 ? [.. run.EndTasks.Select(t => t.Test.Count)] : null,
        };
        if (!metrics.Tasks.SequenceEqual(columns))
        {
            throw new MiguUserException($"{store.MetricsPath}: its tasks ({string.Join(", ", metrics.Tasks)}) are not this run's");
        }

        secondsBefore = metrics.TotalSeconds;
        if (metrics.Finished)
        {
            observer.Info($"{store.Root} holds a finished run; nothing to do");
            return metrics;
        }

        int done = metrics.Timings.Count;
        PretrainingReport report = Resumed(PretrainingReport.Read(ReportPath), done);
        store.Log(done == 0 ? "continual pre-training started" : $"continual pre-training resumed after {done} of {DomainCount} domain(s)");
        foreach (string note in run.EndTasks.Select(t => t.Data.LabelsNote).OfType<string>())
        {
            store.Log(note); // labels taken from the data rather than a labels.json
        }

        if (done > 0)
        {
            strategy.LoadCheckpoint(DomainCheckpoint(done - 1));
        }

        if (done == 0 && recipe.Eval.Baseline)
        {
            if (report.HeldOutLossBaseline is null)
            {
                report = report with { HeldOutLossBaseline = HeldOutRow() };
                report.Write(ReportPath);
            }

            if (run.EndTasks.Count > 0 && metrics.BaselineAccuracy is null)
            {
                EndTaskScores baseline = EndTasks().Evaluate(run.InitialCheckpoint(lora), run.EndTasks, -1, "before pre-training");
                metrics = metrics with { BaselineAccuracy = baseline.Accuracy, BaselineMacroF1 = baseline.MacroF1, TotalSeconds = Elapsed() };
                store.WriteMetrics(metrics);
            }
        }

        for (int domain = done; domain < DomainCount; domain++)
        {
            (metrics, report) = RunDomain(domain, metrics, report, cancel);
        }

        metrics = Summarize(metrics) with { Finished = true, TotalSeconds = Elapsed() };
        store.WriteMetrics(metrics);
        store.Log(metrics.Acc is double acc
            ? string.Create(CultureInfo.InvariantCulture, $"continual pre-training finished: end-task accuracy {acc:P1}, macro-F1 {metrics.MacroF1:P1}")
            : "continual pre-training finished");
        return metrics;
    }

    private (RunMetrics, PretrainingReport) RunDomain(int domain, RunMetrics metrics, PretrainingReport report, CancellationToken cancel)
    {
        string name = run.Domains[domain].Name;
        IReadOnlyList<Parameter> parameters = strategy.BeginTask(domain);
        MiguOptions? miguOptions = StrategyFactory.MiguOptionsFor(recipe);
        using MiguController? migu = miguOptions is null ? null : new MiguController(strategy.MiguTargets(miguOptions), miguOptions);
        migu?.BeginTask(domain);
        TrainingSettings t = recipe.Training;
        using var optimizer = new RowMaskedAdamW(parameters, t.Lr, t.Beta1, t.Beta2, t.Eps, t.WeightDecay);
        var names = parameters.Select((p, i) => (p, i)).ToDictionary(x => x.p, x => $"p{x.i}", ReferenceEqualityComparer.Instance as IEqualityComparer<Parameter>);
        double replay = strategy is ReplayStrategy r ? r.Fraction : 0;
        IReadOnlyList<int[]> sequences = DomainMix.For(domain, [.. run.Domains.Select(d => d.Name)], run.TrainSequences, replay, recipe.Seed);
        TaskTrainingPlan plan = TaskTrainingPlan.FromRecipe(recipe, domain, name, new PackedTextData(sequences, run.Objective, new BatchDraw(recipe.Seed, domain, -1))) with
        {
            MaxSteps = run.Settings.Steps,
        };
        int totalSteps = plan.Steps().Count;
        long stepBase = metrics.Timings.Sum(x => (long)x.Steps);
        int startStep = 0;
        double trainSeconds = 0;
        long tokens = 0;
        if (MidTaskState.Read(store.MidTaskDirectory) is { } mid && mid.TaskIndex == domain)
        {
            strategy.LoadCheckpoint(store.MidTaskDirectory);
            optimizer.ImportState(Safetensors.LoadStateDict(Path.Combine(store.MidTaskDirectory, MidTaskState.OptimizerFile)), names);
            (startStep, trainSeconds, tokens) = (mid.Step, mid.TrainSeconds, mid.Tokens);
            store.Log($"domain {name}: resumed at step {startStep} of {totalSteps}");
        }

        store.TruncateLoss(stepBase + startStep);
        store.Log($"domain {name}: {PretrainingModel.Name(run.Objective.Kind)} for {totalSteps} steps on {sequences.Count} sequences of up to {run.Settings.SeqLen} tokens");
        observer.TrainingStarted(domain, DomainCount, name, totalSteps, startStep);
        var trainClock = Stopwatch.StartNew();
        using (var events = new TensorBoardLog(store.EventsDirectory))
        {
            new TaskTrainer(run.Model, run.Device).Train(
                plan,
                optimizer,
                migu,
                () => strategy.ExtraLoss(domain),
                startStep,
                step =>
                {
                    tokens += step.Tokens;
                    store.AppendLoss(stepBase + step.Step, step, name, Elapsed());
                    events.Scalar("pretrain/loss", step.Loss + step.ExtraLoss, stepBase + step.Step);
                    events.Scalar("pretrain/lr", step.Lr, stepBase + step.Step);
                    observer.StepDone(step, tokens / Math.Max(trainSeconds + trainClock.Elapsed.TotalSeconds, 1e-9));
                },
                steps => WriteMidCheckpoint(domain, steps, optimizer, names, trainSeconds + trainClock.Elapsed.TotalSeconds, tokens),
                cancel);
        }

        trainSeconds += trainClock.Elapsed.TotalSeconds;
        EncodedExample[] fisherExamples = [.. run.TrainSequences[domain].Select(s => new EncodedExample(s, []))];
        var place = new Dictionary<EncodedExample, int>(ReferenceEqualityComparer.Instance);
        for (int i = 0; i < fisherExamples.Length; i++)
        {
            place[fisherExamples[i]] = i;
        }

        strategy.EndTask(new TaskEndContext(domain, fisherExamples, examples => FisherLoss(domain, examples, place), recipe.Seed));

        var evalClock = Stopwatch.StartNew();
        string checkpoint = SaveDomainCheckpoint(domain, name);
        report = report with { HeldOutLoss = [.. report.HeldOutLoss, HeldOutRow()] };
        bool last = domain == DomainCount - 1;
        EndTaskScores? scores = run.EndTasks.Count > 0 && (recipe.EndTasks!.AfterEachDomain || last)
            ? EndTasks().Evaluate(lora is null ? checkpoint : Path.Combine(checkpoint, MergedFolder), run.EndTasks, domain, $"after {name}")
            : null;
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
        report.Write(ReportPath);
        if (scores is not null)
        {
            WritePredictions(domain, name, scores);
        }

        store.WriteMetrics(metrics); // the commit point of the domain
        if (Directory.Exists(store.MidTaskDirectory))
        {
            Directory.Delete(store.MidTaskDirectory, recursive: true);
        }

        if (recipe.Training.KeepCheckpoints == "last" && domain > 0 && Directory.Exists(DomainCheckpoint(domain - 1)))
        {
            Directory.Delete(DomainCheckpoint(domain - 1), recursive: true);
        }

        double?[] held = [.. report.HeldOutLoss[^1]];
        store.Log(string.Create(CultureInfo.InvariantCulture, $"domain {name}: done, held-out loss [{string.Join(", ", held.Select(h => h is double v ? v.ToString("F3", CultureInfo.InvariantCulture) : "–"))}]"));
        if (scores is not null)
        {
            observer.PhaseFinished(metrics.AccuracyMatrix.Count - 1, metrics);
        }

        return (metrics, report);
    }

    /// <summary>Where a LoRA run keeps the merged model of a domain checkpoint (end tasks and transformers read it).</summary>
    public const string MergedFolder = "merged";

    private string DomainCheckpoint(int domain) => store.TaskCheckpoint(domain, run.Domains[domain].Name);

    /// <summary>checkpoints/task-NN-DOMAIN: the strategy's checkpoint and the tokenizer; with adapters, the merged model in merged/.</summary>
    private string SaveDomainCheckpoint(int domain, string name)
    {
        string checkpoint = store.TaskCheckpoint(domain, name);
        string temp = checkpoint + ".tmp";
        if (Directory.Exists(temp))
        {
            Directory.Delete(temp, recursive: true);
        }

        Directory.CreateDirectory(temp);
        strategy.SaveCheckpoint(temp);
        PretrainingTokenizer.CopyFiles(run.TokenizerDirectory, temp);
        if (lora is not null)
        {
            MergedCheckpoint.Save(run.Model, lora, run.TokenizerDirectory, Path.Combine(temp, MergedFolder));
        }

        RunStore.CommitDirectory(temp, checkpoint);
        return checkpoint;
    }

    private double?[] HeldOutRow() =>
        [.. run.HeldOutSequences.Select((s, j) => HeldOutLoss.Of(run.Model, new PackedTextData(s, run.Objective, new BatchDraw(recipe.Seed, j, -1)), recipe.Eval.Batch, run.Device))];

    /// <summary>EWC's per-example loss on packed sequences, with noise drawn once for the purpose.</summary>
    /// <summary>
    /// The objective's loss on some of the domain's sequences, for EWC's Fisher. Each sequence's
    /// noise is seeded by its place in the domain, not in <paramref name="examples"/>: EWC passes
    /// one sequence at a time, and seeding by the place in that list gave every sample the same
    /// masked positions.
    /// </summary>
    private Tensor FisherLoss(int domain, IReadOnlyList<EncodedExample> examples, Dictionary<EncodedExample, int> place)
    {
        ulong[] seeds = [.. examples.Select(e => PackedTextData.RowSeed(new BatchDraw(recipe.Seed, domain, -2), place[e]))];
        return run.Model.forward(run.Objective.Collate([.. examples.Select(e => e.Source)], seeds, run.Device)).Loss
            ?? throw new InvalidOperationException("the model returned no loss for a batch with labels");
    }

    private EndTaskEvaluator EndTasks() => new(recipe, recipe.EndTasks!, run.Device, observer);

    /// <summary>The derived measures: the accuracy matrix when end tasks follow every domain, the one row after the last otherwise.</summary>
    private RunMetrics Summarize(RunMetrics m)
    {
        RunMetrics scores = m.AccuracyMatrix.Count == 0 || run.EndTasks.Count == 0 ? m
            : recipe.EndTasks!.AfterEachDomain
                ? RunMetricsCalculator.Sequential(m.Tasks, m.AccuracyMatrix, m.MacroF1Matrix, m.BaselineAccuracy, m.BaselineMacroF1)
                : RunMetricsCalculator.Joint(m.Tasks, m.AccuracyMatrix[^1], m.MacroF1Matrix[^1], m.BaselineAccuracy, m.BaselineMacroF1);
        return scores with { TestSizes = m.TestSizes, Timings = m.Timings, TotalSeconds = m.TotalSeconds, Finished = false };
    }

    /// <summary>The report as the committed domains left it: rows beyond them (a domain cut short after writing it) dropped.</summary>
    private PretrainingReport Resumed(PretrainingReport? saved, int done)
    {
        if (saved is not null && saved.Domains.SequenceEqual(run.Domains.Select(d => d.Name)))
        {
            return saved with { HeldOutLoss = [.. saved.HeldOutLoss.Take(done)] };
        }

        return new PretrainingReport
        {
            Objective = PretrainingModel.Name(run.Objective.Kind),
            Domains = [.. run.Domains.Select(d => d.Name)],
            TrainDocuments = [.. run.Domains.Select(d => d.Train.Count)],
            TrainSequences = [.. run.TrainSequences.Select(s => s.Count)],
            HeldOutDocuments = [.. run.Domains.Select(d => d.HeldOut.Count)],
            HeldOutSequences = [.. run.HeldOutSequences.Select(s => s.Count)],
        };
    }

    private void WriteMidCheckpoint(int domain, int step, RowMaskedAdamW optimizer, IReadOnlyDictionary<Parameter, string> names, double seconds, long tokens)
    {
        new MidTaskState { TaskIndex = domain, Step = step, TrainSeconds = seconds, Tokens = tokens }.Commit(store.MidTaskDirectory, strategy, optimizer, names);
        store.Log($"domain {run.Domains[domain].Name}: mid-domain checkpoint at step {step}");
    }

    /// <summary>predictions/after-NN-DOMAIN.jsonl: every scored end-task example's prediction and gold label.</summary>
    private void WritePredictions(int domain, string name, EndTaskScores scores)
    {
        var lines = new List<string>();
        for (int j = 0; j < run.EndTasks.Count; j++)
        {
            LoadedTask task = run.EndTasks[j];
            for (int i = 0; i < scores.Predictions[j].Count; i++)
            {
                lines.Add(new JsonObject { ["task"] = task.Name, ["index"] = i, ["prediction"] = scores.Predictions[j][i], ["gold"] = task.Test[i].Target }.ToJsonString(PredictionJson));
            }
        }

        AtomicFile.WriteAllText(Path.Combine(store.Root, "predictions", $"after-{domain + 1:00}-{name}.jsonl"), string.Join('\n', lines) + "\n");
    }

    private double Elapsed() => secondsBefore + clock.Elapsed.TotalSeconds;
}
