using Migu.Continual.Evaluation;

namespace Migu.Continual.Forgetting;

/// <summary>
/// One measurement of learning and forgetting: after <see cref="Epoch"/> epochs of task
/// <see cref="TaskIndex"/> (epoch 0 of task 0 = before any training).
/// </summary>
public sealed record ForgettingPoint
{
    public required int TaskIndex { get; init; }

    /// <summary>The task being learned (the new domain).</summary>
    public required string Task { get; init; }

    /// <summary>Epochs of the task done: 0 before it, 1 after the first, ….</summary>
    public required int Epoch { get; init; }

    /// <summary>Optimizer steps of the whole run done (the loss.csv step of the next one).</summary>
    public required long Step { get; init; }

    /// <summary>Learning: mean loss per answer token on the task's scored split (teacher forced).</summary>
    public double? NewDomainLoss { get; init; }

    /// <summary>Learning: the task's accuracy (the recipe's eval mode).</summary>
    public double? NewDomainAccuracy { get; init; }

    /// <summary>Forgetting: each general benchmark's accuracy, by file name.</summary>
    public IReadOnlyDictionary<string, MultipleChoiceScore> MultipleChoice { get; init; } = new Dictionary<string, MultipleChoiceScore>();

    /// <summary>Forgetting: perplexity of each general text, by name.</summary>
    public IReadOnlyDictionary<string, double> Perplexity { get; init; } = new Dictionary<string, double>();
}
