using System.Diagnostics;
using Migu.Continual.Evaluation;
using Migu.Continual.Recipes;
using Migu.Continual.Runs;
using Migu.Continual.Training;
using Migu.Core;
using Migu.Core.Optim;
using Migu.Core.Runtime;
using Migu.Models;
using Migu.Models.Tokenizers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Continual.Pretraining;

/// <summary>
/// The DAS protocol's end tasks: for each task separately, a fresh copy of a pre-trained checkpoint
/// is fine-tuned on the task's training set (all parameters, AdamW, constant learning rate, the
/// recipe's clipping; no MIGU) and scored on its test split. RoBERTa gets a freshly initialised
/// classification head (<see cref="ModelFamily.ClassifierFromEncoder"/>); T5 and Llama
/// learn the prompt → label mapping and answer by generation or label ranking. Seeds derive from the
/// run seed, the evaluation (row) and the task, so a repeated evaluation gives the same scores.
/// </summary>
public sealed class EndTaskEvaluator(Recipe recipe, EndTaskSettings settings, Device device, IRunObserver observer)
{
    /// <summary>The mode a model family gets: <c>auto</c> resolved, and a mode that does not fit the family refused.</summary>
    public static EndTaskMode ResolveMode(EndTaskMode mode, ModelFamily family)
    {
        ArgumentNullException.ThrowIfNull(family);
        EndTaskMode resolved = mode == EndTaskMode.Auto ? (family.Generates ? EndTaskMode.Generate : EndTaskMode.Head) : mode;
        if (resolved == EndTaskMode.Head && !family.HasClassificationHead)
        {
            throw new MiguUserException($"end_tasks.mode head needs an encoder with a classification head (RoBERTa); a {family.Name} model answers with generate or rank");
        }

        if (resolved != EndTaskMode.Head && !family.Generates)
        {
            throw new MiguUserException($"end_tasks.mode {resolved.ToString().ToLowerInvariant()} needs a T5 or Llama model; {family.Name}'s end tasks use head");
        }

        return resolved;
    }

    /// <summary>Scores every task with the model in <paramref name="checkpoint"/>; <paramref name="row"/> (−1 = baseline) seeds the fine-tuning.</summary>
    public PhaseScores Evaluate(string checkpoint, IReadOnlyList<LoadedTask> tasks, int row, string title)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        if (settings.Epochs < 1 || settings.Batch < 1 || settings.Lr <= 0)
        {
            throw new MiguUserException("end_tasks: epochs and batch must be at least 1 and lr positive");
        }

        ModelFamily family = ModelLoader.FamilyOf(checkpoint);
        EndTaskMode mode = ResolveMode(settings.Mode, family);
        ITextTokenizer tokenizer = TokenizerLoader.Load(checkpoint);
        var accuracy = new double[tasks.Count];
        var macroF1 = new double[tasks.Count];
        var predictions = new IReadOnlyList<string>[tasks.Count];
        for (int j = 0; j < tasks.Count; j++)
        {
            LoadedTask task = tasks[j];
            TorchSeed.All(Seeds.Derive(recipe.Seed, SeedPurpose.EndTask, row, j)); // the fresh head's initialisation
            var fineTuning = new FineTuning(task, j, tasks.Count, row, title);
            IReadOnlyList<string> answers = mode == EndTaskMode.Head
                ? ClassifyWithHead(family, checkpoint, tokenizer, fineTuning)
                : AnswerWithPrompts(checkpoint, tokenizer, mode, fineTuning);
            TaskScore score = TaskScore.Of(answers, [.. task.Test.Select(p => p.Target)], task.Labels);
            (accuracy[j], macroF1[j], predictions[j]) = (score.Accuracy, score.MacroF1, answers);
        }

        return new PhaseScores(accuracy, macroF1, predictions);
    }

    private string[] ClassifyWithHead(ModelFamily family, string checkpoint, ITextTokenizer tokenizer, FineTuning f)
    {
        LoadedTask task = f.Task;
        using LanguageModel classifier = family.ClassifierFromEncoder(checkpoint, task.Labels, device);
        TextFraming framing = family.Framing(tokenizer);
        FineTune(classifier, ClassificationData.Of(task.Data.Train, task.Labels, tokenizer, framing, settings.MaxLength), f);

        var test = ClassificationData.Of(task.Data.Split(recipe.Eval.Split), task.Labels, tokenizer, framing, settings.MaxLength);
        observer.EvaluationStarted($"{task.Name} ({f.Title})", test.Count);
        IReadOnlyDictionary<int, string> answers = test.Predict(classifier, task.Labels, recipe.Eval.Batch, device, observer.EvaluationProgress);
        observer.EvaluationFinished();
        return [.. Enumerable.Range(0, test.Count).Select(i => answers[i])];
    }

    private IReadOnlyList<string> AnswerWithPrompts(string checkpoint, ITextTokenizer tokenizer, EndTaskMode mode, FineTuning f)
    {
        LoadedTask task = f.Task;
        using LanguageModel model = ModelLoader.Load(checkpoint, device);
        TrainingSettings t = recipe.Training;
        int source = t.MaxSourceLength;
        if (model.MaxPositions is long positions && source + t.MaxTargetLength > positions)
        {
            source = (int)Math.Max(8, positions - t.MaxTargetLength); // a decoder reads prompt and answer as one sequence
        }

        var encoder = new ExampleEncoder(tokenizer, model.Family, source, t.MaxTargetLength);
        var train = new EncodedTaskData([.. task.Train.Select(encoder.Encode)], encoder);
        FineTune(model, train, f);

        var eval = recipe.Eval with { Mode = mode == EndTaskMode.Rank ? EvalMode.Rank : EvalMode.Generate };
        observer.EvaluationStarted($"{task.Name} ({f.Title})", task.Test.Count);
        IReadOnlyList<string> answers = new TaskPredictor(model, encoder, eval, device)
            .Predict([.. task.Test.Select(p => p.Prompt)], task.Labels, observer.EvaluationProgress);
        observer.EvaluationFinished();
        return answers;
    }

    private void FineTune(LanguageModel model, ITrainingData data, FineTuning f)
    {
        TrainingSettings t = recipe.Training;
        IReadOnlyList<Parameter> parameters = [.. model.parameters()];
        using var optimizer = new RowMaskedAdamW(parameters, settings.Lr, t.Beta1, t.Beta2, t.Eps, t.WeightDecay);
        var plan = new TaskTrainingPlan
        {
            TaskIndex = f.Index,
            TaskName = $"{f.Task.Name} (end task)",
            Data = data,
            Epochs = settings.Epochs,
            Batch = settings.Batch,
            Lr = settings.Lr,
            ClipNorm = t.ClipNorm,
            Seed = Seeds.Derive(recipe.Seed, SeedPurpose.EndTask, f.Row),
        };
        observer.TrainingStarted(f.Index, f.Count, $"{f.Task.Name} end task ({f.Title})", plan.Steps().Count, 0);
        var clock = Stopwatch.StartNew();
        long tokens = 0;
        model.train();
        new TaskTrainer(model, device).Train(plan, optimizer, migu: null, () => null, 0, step =>
        {
            tokens += step.Tokens;
            observer.StepDone(step, tokens / Math.Max(clock.Elapsed.TotalSeconds, 1e-9));
        });
    }

    /// <summary>Which end task is fine-tuned: task <paramref name="Index"/> of <paramref name="Count"/> in evaluation <paramref name="Row"/>, shown as <paramref name="Title"/>.</summary>
    private sealed record FineTuning(LoadedTask Task, int Index, int Count, int Row, string Title);
}
