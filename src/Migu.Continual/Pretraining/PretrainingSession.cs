using System.Globalization;
using Migu.Continual.Recipes;
using Migu.Continual.Runs;
using Migu.Continual.Strategies;
using Migu.Continual.Training;
using Migu.Core.Lora;
using static TorchSharp.torch;

namespace Migu.Continual.Pretraining;

/// <summary>
/// One execution of a continual pre-training run: each domain trains on its packed text (with
/// replay's sample of earlier domains mixed in), and is scored by the held-out loss of every domain
/// (pretraining.json) and, when the recipe has end tasks, by fine-tuning each of them on a fresh copy
/// of the domain's checkpoint (metrics.json's rows).
/// </summary>
internal sealed class PretrainingSession(PretrainingRun data, RunContext run, LoraAdapters? lora) : TaskRun(run)
{
    /// <summary>Where a LoRA run keeps the merged model of a domain checkpoint (end tasks and transformers read it).</summary>
    public const string MergedFolder = "merged";

    private readonly IReadOnlyList<RunPhase> phases = RunPhase.Plan([.. data.Domains.Select(d => d.Name)], joint: false);
    private PretrainingReport report = null!;

    protected override string Noun => "domain";

    protected override string Title => "continual pre-training";

    protected override string ScalarPrefix => "pretrain";

    protected override IReadOnlyList<RunPhase> Phases => phases;

    protected override IReadOnlyList<string> Columns => data.EndTasks.Count > 0 ? [.. data.EndTasks.Select(t => t.Name)] : [.. data.Domains.Select(d => d.Name)];

    protected override IReadOnlyList<LoadedTask> ScoredTasks => data.EndTasks;

    protected override bool ScoresOnce => Recipe.EndTasks?.AfterEachDomain != true;

    private string ReportPath => Path.Combine(Store.Root, PretrainingReport.FileName);

    /// <summary>The report as the committed domains left it: rows beyond them (a domain cut short after writing it) dropped.</summary>
    protected override void Starting(int done)
    {
        PretrainingReport? saved = PretrainingReport.Read(ReportPath);
        report = saved is not null && saved.Domains.SequenceEqual(data.Domains.Select(d => d.Name))
            ? saved with { HeldOutLoss = [.. saved.HeldOutLoss.Take(done)] }
            : new PretrainingReport
            {
                Objective = PretrainingObjectives.Name(data.Objective.Kind),
                Domains = [.. data.Domains.Select(d => d.Name)],
                TrainDocuments = [.. data.Domains.Select(d => d.Train.Count)],
                TrainSequences = [.. data.TrainSequences.Select(s => s.Count)],
                HeldOutDocuments = [.. data.Domains.Select(d => d.HeldOut.Count)],
                HeldOutSequences = [.. data.HeldOutSequences.Select(s => s.Count)],
            };
    }

    protected override RunMetrics Baseline(RunMetrics metrics)
    {
        if (Recipe.Eval.Baseline && report.HeldOutLossBaseline is null)
        {
            report = report with { HeldOutLossBaseline = HeldOutRow() };
            report.Write(ReportPath);
        }

        return base.Baseline(metrics);
    }

    /// <summary>The domain's packed sequences, with replay's fixed sample of each earlier domain; a fixed number of steps when the recipe sets one.</summary>
    protected override TaskTrainingPlan Plan(RunPhase phase)
    {
        IReadOnlyList<int[]> sequences = DomainMix.For(phase.Index, [.. data.Domains.Select(d => d.Name)], data.TrainSequences, Run.Strategy.ReplayFraction, Recipe.Seed);
        var packed = new PackedTextData(sequences, data.Objective, new BatchDraw(Recipe.Seed, phase.Index, -1));
        return TaskTrainingPlan.FromRecipe(Recipe, phase.Index, phase.Name, packed) with
        {
            MaxSteps = data.Settings.Steps,
            Order = phase.OrderOfBatches(Run.Strategy.ReplayFraction),
        };
    }

    protected override string Describe(TaskTrainingPlan plan, int steps) =>
        $"{PretrainingObjectives.Name(data.Objective.Kind)} for {steps} steps on {plan.Data.Count} sequences of up to {data.Settings.SeqLen} tokens";

    /// <summary>
    /// EWC's Fisher on the domain's own sequences. Each sequence's noise is seeded by its place in the
    /// domain, not in the batch EWC asks about: EWC passes one sequence at a time, and seeding by the
    /// place in that list gave every sample the same masked positions.
    /// </summary>
    protected override TaskEndContext EndContext(RunPhase phase)
    {
        IReadOnlyList<int[]> sequences = data.TrainSequences[phase.Index];
        var draw = new BatchDraw(Recipe.Seed, phase.Index, -2);
        return new TaskEndContext(phase.Index, sequences.Count, indices =>
        {
            ulong[] seeds = [.. indices.Select(i => PackedTextData.RowSeed(draw, i))];
            return data.Model.forward(data.Objective.Collate([.. indices.Select(i => sequences[i])], seeds, data.Device)).Loss
                ?? throw new InvalidOperationException("the model returned no loss for a batch with labels");
        }, Recipe.Seed);
    }

    /// <summary>checkpoints/task-NN-DOMAIN: the run's tokenizer beside the strategy's files; with adapters, the merged model in merged/.</summary>
    protected override void WriteCheckpointFiles(string directory)
    {
        PretrainingTokenizer.CopyFiles(data.TokenizerDirectory, directory);
        if (lora is not null)
        {
            MergedCheckpoint.Save(data.Model, lora, data.TokenizerDirectory, Path.Combine(directory, MergedFolder));
        }
    }

    /// <summary>
    /// Before pre-training: the end tasks from the initial model. After a domain: the held-out loss of
    /// every domain, and the end tasks from the domain's checkpoint, when the recipe scores this domain.
    /// </summary>
    protected override PhaseScores? Evaluate(RunPhase? phase, string? checkpoint)
    {
        if (phase is null)
        {
            return data.EndTasks.Count > 0 ? EndTasks().Evaluate(data.InitialCheckpoint(lora), data.EndTasks, -1, "before pre-training") : null;
        }

        report = report with { HeldOutLoss = [.. report.HeldOutLoss, HeldOutRow()] };
        bool last = phase.Index == phases.Count - 1;
        return data.EndTasks.Count > 0 && (Recipe.EndTasks!.AfterEachDomain || last)
            ? EndTasks().Evaluate(lora is null ? checkpoint! : Path.Combine(checkpoint!, MergedFolder), data.EndTasks, phase.Index, $"after {phase.Name}")
            : null;
    }

    protected override void Recorded(RunPhase phase) => RunStore.Writing(ReportPath, () => report.Write(ReportPath));

    protected override string Done(RunPhase phase, PhaseScores? scores) =>
        $"domain {phase.Name}: done, held-out loss [{string.Join(", ", report.HeldOutLoss[^1].Select(h => h is double v ? v.ToString("F3", CultureInfo.InvariantCulture) : "–"))}]";

    protected override string Finished(RunMetrics metrics) => metrics.Acc is double acc
        ? string.Create(CultureInfo.InvariantCulture, $"continual pre-training finished: end-task accuracy {acc:P1}, macro-F1 {metrics.MacroF1:P1}")
        : "continual pre-training finished";

    private double?[] HeldOutRow() =>
        [.. data.HeldOutSequences.Select((s, j) => HeldOutLoss.Of(data.Model, new PackedTextData(s, data.Objective, new BatchDraw(Recipe.Seed, j, -1)), Recipe.Eval.Batch, data.Device))];

    private EndTaskEvaluator EndTasks() => new(Recipe, Recipe.EndTasks!, data.Device, Run.Observer);
}
