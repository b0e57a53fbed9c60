namespace Migu.Continual.Pretraining;

/// <summary>
/// A recipe's <c>end_tasks</c> section: after continual pre-training (and, when asked, after every
/// domain) a fresh copy of the model is fine-tuned on each task's training set separately and scored
/// on its test set (macro-F1 and accuracy). The pre-trained model itself is never changed by this.
/// </summary>
public sealed record EndTaskSettings
{
    public EndTaskMode Mode { get; init; } = EndTaskMode.Auto;

    /// <summary>Evaluate after every domain (the accuracy matrix) rather than only after the last (the paper's protocol).</summary>
    public bool AfterEachDomain { get; init; }

    public int Epochs { get; init; } = 3;

    public double Lr { get; init; } = 1e-4;

    public int Batch { get; init; } = 16;

    /// <summary>Input tokens of a classified sentence at most (head mode; &lt;s&gt; and &lt;/s&gt; included).</summary>
    public int MaxLength { get; init; } = 128;
}
