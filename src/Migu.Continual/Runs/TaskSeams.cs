using Migu.Continual.Evaluation;
using Migu.Continual.Prompts;
using Migu.Continual.Recipes;
using Migu.Continual.Strategies;
using Migu.Continual.Training;
using Migu.Core;
using Migu.Models;
using Migu.Models.Tokenizers;
using static TorchSharp.torch;

namespace Migu.Continual.Runs;

/// <summary>How a fine-tuning run turns a task's examples into what the model trains on.</summary>
public interface ITaskEncoding
{
    /// <summary>The training data made of <paramref name="examples"/> (a task's, with any replayed ones).</summary>
    ITrainingData TrainingData(IReadOnlyList<PromptedExample> examples);

    /// <summary>What a strategy may use after task <paramref name="taskIndex"/>: its own examples, encoded, and a loss on some of them.</summary>
    TaskEndContext EndContext(int taskIndex, IReadOnlyList<PromptedExample> own, long seed);
}

/// <summary>How a fine-tuning run scores the model on a task: one answer per scored example.</summary>
public interface ITaskEvaluator
{
    IReadOnlyList<string> Answers(LoadedTask task, Action<int>? progress);

    /// <summary>Rank <paramref name="rank"/>'s share of the answers, by example index (data-parallel scoring).</summary>
    IReadOnlyDictionary<int, string> ShareOfAnswers(LoadedTask task, int rank, int worldSize, Action<int>? progress);
}

/// <summary>
/// The seams of continual fine-tuning for a model family. Generative models (T5, Llama) learn
/// prompt → label text and answer by generation or label ranking (<see cref="PromptTasks"/>);
/// encoders with a classification head (BERT, RoBERTa) train one head over the union of the run's
/// labels and answer by arg-max (<see cref="ClassificationTasks"/>).
/// </summary>
public static class TaskSeams
{
    /// <summary>
    /// The model a run over <paramref name="tasks"/> trains, with its tokenizer: the checkpoint or
    /// preset as it is for a generative family, an encoder with a fresh head over the union of the
    /// tasks' labels for an encoder family.
    /// </summary>
    public static (LanguageModel Model, ITextTokenizer Tokenizer) LoadModel(Recipe recipe, IReadOnlyList<LoadedTask> tasks, Device device)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        ModelFamily family = ModelLoader.FamilyOf(recipe.Model);
        if (family.Generates)
        {
            return ModelLoader.LoadWithTokenizer(recipe.Model, recipe.Tokenizer, device);
        }

        if (!family.HasClassificationHead)
        {
            throw new MiguUserException($"{family.Name} can neither generate labels nor classify; continual fine-tuning needs a T5, Llama, BERT or RoBERTa model");
        }

        return ModelLoader.LoadClassifier(recipe.Model, recipe.Tokenizer, ClassificationTasks.UnionLabels(tasks), device);
    }
}

/// <summary>Prompt → answer tasks for a generative model: <see cref="ExampleEncoder"/> encodes them, <see cref="TaskPredictor"/> answers them.</summary>
public sealed class PromptTasks : ITaskEncoding, ITaskEvaluator
{
    private readonly LanguageModel model;
    private readonly Device device;
    private readonly TaskPredictor predictor;

    private PromptTasks(LanguageModel model, ExampleEncoder encoder, EvalSettings eval, Device device)
    {
        this.model = model;
        this.device = device;
        Encoder = encoder;
        predictor = new TaskPredictor(model, encoder, eval, device);
    }

    public ExampleEncoder Encoder { get; }

    /// <summary>
    /// Prompts cut so that prompt and answer fit a decoder's positions (said once through
    /// <paramref name="observer"/>), and every label checked against the answer budget.
    /// </summary>
    public static PromptTasks Create(Recipe recipe, LanguageModel model, ITextTokenizer tokenizer, IReadOnlyList<LoadedTask> tasks, Device device, IRunObserver observer)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tasks);
        ArgumentNullException.ThrowIfNull(observer);
        int source = recipe.Training.MaxSourceLength;
        int target = recipe.Training.MaxTargetLength;
        if (model.MaxPositions is long positions && source + target > positions)
        {
            // A decoder reads prompt and answer as one sequence; keep it within the model's positions.
            source = (int)Math.Max(8, positions - target);
            observer.Info($"prompts are cut to {source} tokens: the model has {positions} positions and answers take up to {target}");
        }

        var prompts = new PromptTasks(model, new ExampleEncoder(tokenizer, model.Family, source, target), recipe.Eval, device);
        foreach (LoadedTask task in tasks)
        {
            prompts.predictor.CheckLabels(task.Name, task.Labels); // a label that can never be produced would silently score zero
        }

        return prompts;
    }

    public ITrainingData TrainingData(IReadOnlyList<PromptedExample> examples) => new EncodedTaskData([.. examples.Select(Encoder.Encode)], Encoder);

    public TaskEndContext EndContext(int taskIndex, IReadOnlyList<PromptedExample> own, long seed)
    {
        EncodedExample[] encoded = [.. own.Select(Encoder.Encode)];
        return new(taskIndex, encoded.Length, indices => Loss([.. indices.Select(i => encoded[i])]), seed);
    }

    public IReadOnlyList<string> Answers(LoadedTask task, Action<int>? progress) =>
        predictor.Predict([.. task.Test.Select(p => p.Prompt)], task.Labels, progress);

    public IReadOnlyDictionary<int, string> ShareOfAnswers(LoadedTask task, int rank, int worldSize, Action<int>? progress) =>
        predictor.PredictShard([.. task.Test.Select(p => p.Prompt)], task.Labels, rank, worldSize, progress);

    private Tensor Loss(IReadOnlyList<EncodedExample> examples) =>
        model.forward(Encoder.Collate(examples, device)).Loss
        ?? throw new InvalidOperationException("the model returned no loss for a batch with labels");
}
