using Migu.Core;
using Migu.Continual.Training;
using Migu.Models;
using Migu.Models.Checkpoints;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Continual.Strategies;

/// <summary>Sequential fine-tuning of every parameter (token embeddings optionally frozen).</summary>
public class FullFineTuning(LanguageModel model, bool freezeEmbeddings) : IContinualStrategy
{
    protected LanguageModel Model { get; } = model;

    public virtual string Name => "ft";

    public virtual IReadOnlyList<Parameter> BeginTask(int taskIndex)
    {
        var trainable = new List<Parameter>();
        foreach (var (name, p) in Model.named_parameters())
        {
            bool train = !(freezeEmbeddings && IsEmbedding(name));
            p.requires_grad = train;
            if (train)
            {
                trainable.Add(p);
            }
        }

        return trainable;
    }

    public IReadOnlyList<MaskTarget> MiguTargets(MiguOptions options) => [.. MiguController.SelectTargets(Model, options)];

    public virtual IReadOnlyList<TextPair> TrainingData(int taskIndex, IReadOnlyList<IReadOnlyList<TextPair>> trainSets) => trainSets[taskIndex];

    public virtual Tensor? ExtraLoss(int taskIndex) => null;

    public virtual void EndTask(TaskEndContext context)
    {
    }

    public virtual void SaveCheckpoint(string directory) => ModelCheckpoint.Save(Model, directory);

    public virtual void LoadCheckpoint(string directory) => ModelCheckpoint.LoadWeights(Model, directory);

    /// <summary>Token (and position) embedding tables of any family.</summary>
    public static bool IsEmbedding(string parameterName) =>
        parameterName is "shared.weight" || parameterName.EndsWith("embed_tokens.weight", StringComparison.Ordinal)
        || parameterName.Contains("embeddings.word_embeddings", StringComparison.Ordinal)
        || parameterName.Contains("embeddings.position_embeddings", StringComparison.Ordinal);

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
    }
}
