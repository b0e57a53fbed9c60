using Migu.Models;
using static TorchSharp.torch;

namespace Migu.Continual.Training;

/// <summary>
/// What the training loop draws batches from: a fixed number of items (examples, packed sequences),
/// their token counts (for length-bucketed batches and throughput), and how a set of them becomes a
/// padded model batch. Prompt/answer pairs (<see cref="EncodedTaskData"/>) and pre-training text are both this.
/// </summary>
public interface ITrainingData
{
    int Count { get; }

    /// <summary>Tokens item <paramref name="index"/> puts through the model.</summary>
    int TokensOf(int index);

    /// <summary>A batch of the items at <paramref name="indices"/> on <paramref name="device"/>, with labels.</summary>
    ModelBatch Collate(IReadOnlyList<int> indices, Device device);

    /// <summary>
    /// The batch of a training step in <paramref name="draw"/>'s epoch. Data that draws at collate
    /// time (dynamic masking) seeds each item from the draw and the item's index, so a resumed run
    /// draws what an uninterrupted one drew; data that draws nothing ignores it.
    /// </summary>
    ModelBatch Collate(IReadOnlyList<int> indices, Device device, BatchDraw draw) => Collate(indices, device);
}

/// <summary>Encoded prompt/answer examples, collated by the model family's <see cref="ExampleEncoder"/>.</summary>
public sealed class EncodedTaskData(IReadOnlyList<EncodedExample> examples, ExampleEncoder encoder) : ITrainingData
{
    public IReadOnlyList<EncodedExample> Examples => examples;

    public int Count => examples.Count;

    public int TokensOf(int index) => examples[index].Tokens;

    public ModelBatch Collate(IReadOnlyList<int> indices, Device device) => encoder.Collate([.. indices.Select(i => examples[i])], device);
}

/// <summary>
/// Where a training batch is drawn: the run seed, the task (or domain) and the epoch. Dynamic
/// masking seeds each item from (draw, item index), so an item's noise is new every epoch yet does
/// not depend on which batch or micro-batch the item lands in, nor on a resume.
/// </summary>
public readonly record struct BatchDraw(long Seed, int TaskIndex, int Epoch);
