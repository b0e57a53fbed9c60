using Migu.Continual.Evaluation;
using Migu.Continual.Pretraining;
using Migu.Continual.Recipes;
using Migu.Continual.Runs;
using Migu.Continual.Training;
using Migu.Core;
using Migu.Models;
using Migu.Models.Tokenizers;
using static TorchSharp.torch;

namespace Migu.Continual.Forgetting;

/// <summary>
/// Watches a model's general ability while it learns a new domain (the paper's Llama experiment):
/// before training and at the end of every epoch it measures learning — the current task's loss and
/// accuracy on its scored split — and forgetting — accuracy on general multiple-choice benchmarks
/// (log-likelihood) and perplexity on general text — and writes them to forgetting.json. The
/// benchmarks and texts are read when the probe is made, so a bad file stops the run before training.
/// </summary>
public sealed class ForgettingProbe
{
    private readonly Recipe recipe;
    private readonly LanguageModel model;
    private readonly ExampleEncoder encoder;
    private readonly IReadOnlyList<LoadedTask> tasks;
    private readonly Device device;
    private readonly string path;
    private readonly IRunObserver observer;
    private readonly MultipleChoiceScorer? scorer;
    private readonly IReadOnlyList<(string Name, IReadOnlyList<MultipleChoiceItem> Items)> benchmarks;
    private readonly IReadOnlyList<(string Name, IReadOnlyList<int[]> Windows)> texts;
    private readonly ObjectiveTokens tokens;
    private (TaskTrainingPlan Plan, HashSet<int> EpochEnds)? epochEnds;

    public ForgettingProbe(Recipe recipe, LanguageModel model, ITextTokenizer tokenizer, ExampleEncoder encoder, IReadOnlyList<LoadedTask> tasks, Device device, string runDirectory, IRunObserver observer)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ForgettingSettings settings = recipe.Forgetting ?? throw new MiguUserException("the recipe has no forgetting section");
        (this.recipe, this.model, this.encoder, this.tasks, this.device, this.observer) = (recipe, model, encoder, tasks, device, observer);
        path = Path.Combine(runDirectory, ForgettingReport.FileName);
        tokens = ObjectiveTokens.Of(tokenizer);
        if (settings.SeqLen < 8 || settings.MaxWindows < 1 || settings.MaxItems is < 1)
        {
            throw new MiguUserException("forgetting: seq_len must be at least 8, max_windows and max_items at least 1");
        }

        benchmarks = [.. settings.MultipleChoice.Select(f => (Path.GetFileNameWithoutExtension(f), MultipleChoiceFile.Read(f, settings.MaxItems)))];
        scorer = benchmarks.Count > 0 ? new MultipleChoiceScorer(model, tokenizer, device, recipe.Eval.Batch) : null;
        if (settings.Perplexity.Count > 0 && !model.Family.IsDecoderOnly)
        {
            throw new MiguUserException("forgetting.perplexity needs a decoder-only (Llama) model");
        }

        int length = (int)Math.Min(settings.SeqLen, model.MaxPositions ?? settings.SeqLen);
        TextFraming framing = model.Family.Framing(tokenizer);
        texts = [.. settings.Perplexity.Select(f => (TextCorpus.NameOf(f),
            (IReadOnlyList<int[]>)[.. SequencePacker.Pack(TextCorpus.Read(f).Select(d => framing.Encode(tokenizer, d)), length).Take(settings.MaxWindows)]))];
    }

    /// <summary>Reads every file <paramref name="settings"/> names, so a missing or malformed one is reported before a run directory is made.</summary>
    public static void CheckFiles(ForgettingSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        foreach (string file in settings.MultipleChoice)
        {
            MultipleChoiceFile.Read(file, settings.MaxItems);
        }

        foreach (string text in settings.Perplexity)
        {
            TextCorpus.Read(text);
        }
    }

    /// <summary>The point before any training, unless the run already has it.</summary>
    public void Baseline()
    {
        if (!ForgettingReport.Read(path).Has(0, 0))
        {
            Measure(0, 0, 0);
        }
    }

    /// <summary>
    /// After each optimizer step of <paramref name="plan"/>: when <paramref name="step"/> ends an epoch,
    /// measure. MIGU records only inside a training step (<see cref="MiguController.Recording"/>), so
    /// the measurement's forward passes never reach the next step's mask.
    /// </summary>
    public void AfterStep(TaskTrainingPlan plan, StepRecord step, long globalStep)
    {
        ArgumentNullException.ThrowIfNull(plan);
        ArgumentNullException.ThrowIfNull(step);
        if (epochEnds is not { } known || !ReferenceEquals(known.Plan, plan))
        {
            var steps = plan.Steps();
            known = (plan, [.. Enumerable.Range(0, steps.Count).Where(i => i == steps.Count - 1 || steps[i + 1].Epoch != steps[i].Epoch)]);
            epochEnds = known;
        }

        if (known.EpochEnds.Contains(step.Step))
        {
            Measure(step.TaskIndex, step.Epoch + 1, globalStep + 1);
        }
    }

    private void Measure(int taskIndex, int epoch, long globalStep)
    {
        LoadedTask task = tasks[taskIndex];
        observer.EvaluationStarted($"general ability and {task.Name} after epoch {epoch}", task.Test.Count);
        var examples = task.Test.Select(encoder.Encode).ToList();
        double? loss = PromptLoss.Of(model, encoder, examples, recipe.Eval.Batch, device);
        IReadOnlyList<string> answers = new TaskPredictor(model, encoder, recipe.Eval, device).Predict([.. task.Test.Select(p => p.Prompt)], task.Labels, observer.EvaluationProgress);
        var point = new ForgettingPoint
        {
            TaskIndex = taskIndex,
            Task = task.Name,
            Epoch = epoch,
            Step = globalStep,
            NewDomainLoss = loss,
            NewDomainAccuracy = ExactMatch.Accuracy(answers, [.. task.Test.Select(p => p.Target)]),
            MultipleChoice = benchmarks.ToDictionary(b => b.Name, b => scorer!.Score(b.Items)),
            Perplexity = texts.ToDictionary(t => t.Name, t => Perplexity.Of(model, t.Windows, tokens, recipe.Eval.Batch, device)),
        };
        observer.EvaluationFinished();
        ForgettingReport.Read(path).With(point).Write(path);
        observer.Info(Describe(point));
    }

    private static string Describe(ForgettingPoint p) =>
        FormattableString.Invariant($"{p.Task} epoch {p.Epoch}: new domain loss {p.NewDomainLoss:F3}, accuracy {p.NewDomainAccuracy:P1}")
        + string.Concat(p.MultipleChoice.Select(m => FormattableString.Invariant($"; {m.Key} {m.Value.Accuracy:P1} (norm {m.Value.NormalizedAccuracy:P1})")))
        + string.Concat(p.Perplexity.Select(x => FormattableString.Invariant($"; {x.Key} ppl {x.Value:F2}")));
}
