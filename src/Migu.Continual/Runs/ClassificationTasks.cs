using Migu.Continual.Prompts;
using Migu.Continual.Recipes;
using Migu.Continual.Strategies;
using Migu.Continual.Training;
using Migu.Core;
using Migu.Models;
using Migu.Models.Tokenizers;
using static TorchSharp.torch;

namespace Migu.Continual.Runs;

/// <summary>
/// Continual fine-tuning of an encoder (BERT, RoBERTa) as a classifier, the protocol of the
/// continual-learning literature on these text-classification streams (de Masson d'Autume et al.
/// 2019; Huang et al. 2021): ONE head over the union of the run's label strings (tasks that share
/// labels, such as amazon and yelp, share rows), trained task after task, and an answer is the
/// arg-max over every row — no task label at training or scoring time, so a later task's rows
/// compete with an earlier task's and forgetting shows. The encoder reads the example's own text:
/// the body of the prompt (<see cref="PromptLayout"/>), without the task and dataset lines, the
/// instruction or the options, which would name the task.
/// </summary>
public sealed class ClassificationTasks : ITaskEncoding, ITaskEvaluator
{
    private readonly LanguageModel classifier;
    private readonly ITextTokenizer tokenizer;
    private readonly TextFraming framing;
    private readonly int maxLength;
    private readonly int evalBatch;
    private readonly Device device;
    private readonly Dictionary<LoadedTask, ClassificationData> scored = new(ReferenceEqualityComparer.Instance);

    private ClassificationTasks(LanguageModel classifier, ITextTokenizer tokenizer, IReadOnlyList<string> labels, int maxLength, int evalBatch, Device device)
    {
        this.classifier = classifier;
        this.tokenizer = tokenizer;
        framing = classifier.Family.Framing(tokenizer);
        this.maxLength = maxLength;
        this.evalBatch = evalBatch;
        this.device = device;
        Labels = labels;
    }

    /// <summary>The head's classes: every task's labels in task order, each label once.</summary>
    public IReadOnlyList<string> Labels { get; }

    /// <summary>The union of <paramref name="tasks"/>' label strings, in task order (a label shared by two tasks is one class).</summary>
    public static IReadOnlyList<string> UnionLabels(IReadOnlyList<LoadedTask> tasks)
    {
        ArgumentNullException.ThrowIfNull(tasks);
        var seen = new HashSet<string>(StringComparer.Ordinal);
        return [.. tasks.SelectMany(t => t.Labels).Where(seen.Add)];
    }

    /// <summary>
    /// The seams for <paramref name="classifier"/> (a head over <see cref="UnionLabels"/>): texts cut to
    /// training.max_source_length tokens, or the model's positions when fewer (said once through <paramref name="observer"/>).
    /// </summary>
    public static ClassificationTasks Create(Recipe recipe, LanguageModel classifier, ITextTokenizer tokenizer, IReadOnlyList<LoadedTask> tasks, Device device, IRunObserver observer)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        ArgumentNullException.ThrowIfNull(classifier);
        ArgumentNullException.ThrowIfNull(observer);
        if (!classifier.IsClassifier)
        {
            throw new MiguUserException($"a {classifier.Family.Name} model without a classification head cannot be fine-tuned task after task; build it with ModelLoader.LoadClassifier");
        }

        int length = recipe.Training.MaxSourceLength;
        if (classifier.MaxPositions is long positions && length > positions)
        {
            length = (int)positions;
            observer.Info($"texts are cut to {length} tokens: the model has {positions} positions");
        }

        return new ClassificationTasks(classifier, tokenizer, UnionLabels(tasks), length, recipe.Eval.Batch, device);
    }

    public ITrainingData TrainingData(IReadOnlyList<PromptedExample> examples)
    {
        ArgumentNullException.ThrowIfNull(examples);
        return new ClassificationData([.. examples.Select(TextOf)], [.. examples.Select(e => e.Target)], Labels, tokenizer, framing, maxLength);
    }

    public TaskEndContext EndContext(int taskIndex, IReadOnlyList<PromptedExample> own, long seed)
    {
        ITrainingData data = TrainingData(own);
        return new TaskEndContext(taskIndex, data.Count, indices => Loss(data, indices), seed);
    }

    public IReadOnlyList<string> Answers(LoadedTask task, Action<int>? progress)
    {
        IReadOnlyDictionary<int, string> answers = Scored(task).Predict(classifier, Labels, evalBatch, device, progress);
        return [.. Enumerable.Range(0, answers.Count).Select(i => answers[i])];
    }

    public IReadOnlyDictionary<int, string> ShareOfAnswers(LoadedTask task, int rank, int worldSize, Action<int>? progress) =>
        Scored(task).Predict(classifier, Labels, evalBatch, device, progress, rank, worldSize);

    /// <summary>What the encoder reads of an example: the prompt's body (the example's text), or the whole prompt when it has no builder layout.</summary>
    public static string TextOf(PromptedExample example)
    {
        ArgumentNullException.ThrowIfNull(example);
        return PromptLayout.Split(example.Prompt)?.Body ?? example.Prompt;
    }

    private ClassificationData Scored(LoadedTask task)
    {
        if (!scored.TryGetValue(task, out ClassificationData? data))
        {
            // Unlabelled on purpose: a scored example's gold label is read only by the scorer.
            data = new ClassificationData([.. task.Test.Select(TextOf)], null, Labels, tokenizer, framing, maxLength);
            scored[task] = data;
        }

        return data;
    }

    private Tensor Loss(ITrainingData data, IReadOnlyList<int> indices) =>
        classifier.forward(data.Collate(indices, device)).Loss
        ?? throw new InvalidOperationException("the classifier returned no loss for a batch with labels");
}
