namespace Migu.Continual.Forgetting;

/// <summary>
/// A recipe's <c>forgetting</c> section (decoders): while the model is tuned on a new domain, its
/// general ability is measured before training and after every epoch — multiple-choice accuracy by
/// log-likelihood and perplexity on held-out text — beside the new domain's loss and accuracy
/// (the paper's Llama experiment). Results go to forgetting.json in the run directory.
/// </summary>
public sealed record ForgettingSettings
{
    /// <summary>JSON Lines files of {"context", "choices", "answer"} (HellaSwag, WinoGrande, ARC converted to this shape).</summary>
    public IReadOnlyList<string> MultipleChoice { get; init; } = [];

    /// <summary>Held-out general text (any corpus format <c>pretrain.corpora</c> takes) whose perplexity is tracked.</summary>
    public IReadOnlyList<string> Perplexity { get; init; } = [];

    /// <summary>Items per multiple-choice file at most (the first ones); null = all.</summary>
    public int? MaxItems { get; init; }

    /// <summary>Tokens per perplexity window (capped by the model's positions).</summary>
    public int SeqLen { get; init; } = 256;

    /// <summary>Perplexity windows per text at most.</summary>
    public int MaxWindows { get; init; } = 64;
}
