using Migu.Continual.Data;
using Migu.Continual.Recipes;
using Migu.Continual.Runs;
using Migu.Continual.Strategies;
using Migu.Continual.Training;
using Migu.Core;
using Migu.Core.Lora;
using Migu.Models;
using Migu.Models.Adapters;
using Migu.Models.Tokenizers;
using static TorchSharp.torch;

namespace Migu.Continual.Evaluation;

/// <summary>
/// The model that <c>migu eval</c> scores: a checkpoint, with PEFT adapters attached when given
/// (several are summed, as IncLoRA trains them). An encoder trained with adapters (lora, inclora,
/// olora, replay on lora) has no head in its base checkpoint: its run kept the head beside the
/// adapters (<see cref="LoraStrategy.HeadFile"/> and <see cref="LoraStrategy.HeadLabelsFile"/>), so the
/// base is loaded as that classifier, the adapters are attached and the head's weights loaded — the
/// model the run scored after that task.
/// </summary>
public sealed class EvalModel : IDisposable
{
    private EvalModel(LanguageModel model, ITextTokenizer tokenizer, LoraAdapters? adapters)
    {
        Model = model;
        Tokenizer = tokenizer;
        Adapters = adapters;
    }

    public LanguageModel Model { get; }

    public ITextTokenizer Tokenizer { get; }

    /// <summary>The attached adapters (named a1, a2, … in the order given); null without any.</summary>
    public LoraAdapters? Adapters { get; }

    public static EvalModel Load(string model, IReadOnlyList<string> adapterDirectories, Device device)
    {
        ArgumentNullException.ThrowIfNull(adapterDirectories);
        var (loaded, tokenizer) = ModelLoader.LoadWithTokenizer(model, null, device);
        string? headDirectory = null;
        try
        {
            // A base that is not yet a classifier needs the run's head; a classifier base (a preset run's
            // checkpoints/base holds the untrained head it started from) is given the trained one.
            if (adapterDirectories.Count > 0 && !loaded.Family.Generates
                && (loaded.ClassLabels is null || LoraStrategy.HasHeadBeside(adapterDirectories[0])))
            {
                var (directory, labels) = LoraStrategy.HeadBeside(adapterDirectories[0]);
                headDirectory = directory;
                loaded.Dispose();
                (loaded, tokenizer) = ModelLoader.LoadClassifier(model, null, labels, device);
            }

            LoraAdapters? lora = null;
            for (int i = 0; i < adapterDirectories.Count; i++)
            {
                if (lora is null)
                {
                    lora = PeftAdapterFiles.Attach(loaded, adapterDirectories[i], $"a{i + 1}");
                }
                else
                {
                    PeftAdapterFiles.Load(lora, adapterDirectories[i], $"a{i + 1}");
                }
            }

            if (headDirectory is not null)
            {
                LoraStrategy.LoadHead(loaded, headDirectory);
            }

            return new EvalModel(loaded, tokenizer, lora);
        }
        catch
        {
            loaded.Dispose();
            throw;
        }
    }

    /// <summary>
    /// An encoder classifier's answers: the arg-max over all its labels, on texts framed and cut as the
    /// run framed them (<paramref name="recipe"/>'s source length and evaluation batch).
    /// </summary>
    public Func<LoadedTask, IReadOnlyList<string>> ClassifierAnswers(Recipe recipe, Device device)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        if (Model.ClassLabels is not { } labels)
        {
            throw new MiguUserException($"{recipe.Model}: a {Model.Family.Name} encoder without a classification head has no answers to score; give a classifier checkpoint (a full fine-tuning run's checkpoints/task-NN-name), or the base encoder with --adapter naming a LoRA run checkpoint's adapters");
        }

        int length = (int)Math.Min(recipe.Training.MaxSourceLength, Model.MaxPositions ?? long.MaxValue);
        TextFraming framing = Model.Family.Framing(Tokenizer);
        return task =>
        {
            var data = new ClassificationData([.. task.Test.Select(ClassificationTasks.TextOf)], null, labels, Tokenizer, framing, length);
            IReadOnlyDictionary<int, string> answers = data.Predict(Model, labels, recipe.Eval.Batch, device);
            return [.. Enumerable.Range(0, data.Count).Select(i => answers[i])];
        };
    }

    public void Dispose()
    {
        Adapters?.Dispose();
        Model.Dispose();
    }
}
