using Migu.Core;

namespace Migu.Continual.Forgetting;

/// <summary>
/// A recipe's <c>forgetting</c> section (decoders): while the model is tuned on a new domain, its
/// general ability is measured before training and after every epoch — multiple-choice accuracy by
/// log-likelihood and perplexity on held-out text — beside the new domain's loss and accuracy
/// (the paper's Llama experiment). Results go to forgetting.json in the run directory.
/// </summary>
public sealed record ForgettingSettings
{
    [Option("JSON Lines files of {\"context\", \"choices\", \"answer\"} (HellaSwag, WinoGrande, ARC converted to this shape), scored by log-likelihood")]
    public IReadOnlyList<string> MultipleChoice { get; init; } = [];

    [Option("Held-out general text (any corpus format pretrain.corpora takes) whose perplexity is tracked (decoders)")]
    public IReadOnlyList<string> Perplexity { get; init; } = [];

    [Option("Items per multiple-choice file at most (the first ones)")]
    public int? MaxItems { get; init; }

    [Option("Tokens per perplexity window (capped by the model's positions)")]
    public int SeqLen { get; init; } = 256;

    [Option("Perplexity windows per text at most")]
    public int MaxWindows { get; init; } = 64;
}
