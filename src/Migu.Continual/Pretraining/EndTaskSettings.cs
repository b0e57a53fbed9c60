using Migu.Core;

namespace Migu.Continual.Pretraining;

/// <summary>
/// A recipe's <c>end_tasks</c> section: after continual pre-training (and, when asked, after every
/// domain) a fresh copy of the model is fine-tuned on each task's training set separately and scored
/// on its test set (macro-F1 and accuracy). The pre-trained model itself is never changed by this.
/// </summary>
public sealed record EndTaskSettings
{
    [Option("head (an encoder with a classification head), generate or rank (T5, Llama), or auto: the family's own")]
    public EndTaskMode Mode { get; init; } = EndTaskMode.Auto;

    [Option("The accuracy matrix: end tasks after every domain, not only after the last (needs one task per domain, same order)")]
    public bool AfterEachDomain { get; init; }

    [Option("Epochs of each end task's fine-tuning (AdamW, constant rate, the recipe's clipping; no MIGU)")]
    public int Epochs { get; init; } = 3;

    [Option("Learning rate of the end tasks' fine-tuning")]
    public double Lr { get; init; } = 1e-4;

    [Option("Examples per step of the end tasks' fine-tuning")]
    public int Batch { get; init; } = 16;

    [Option("Head mode: tokens of a classified sentence at most (<s> and </s> included)")]
    public int MaxLength { get; init; } = 128;
}
