namespace Migu.Continual.Pretraining;

/// <summary>
/// A recipe's <c>pretrain</c> section: the run trains domain after domain on unlabeled text (the DAS
/// protocol) instead of fine-tuning on prompts. The optimiser settings (lr, batch, schedule,
/// clipping, checkpoints) are the recipe's <c>training</c> section's.
/// </summary>
public sealed record PretrainSettings
{
    public PretrainObjective Objective { get; init; } = PretrainObjective.Auto;

    /// <summary>Tokens per packed sequence; for span corruption, of the text window before corruption.</summary>
    public int SeqLen { get; init; } = 128;

    /// <summary>Optimizer steps per domain; null = <c>training.epochs</c> passes over each domain's packed sequences.</summary>
    public int? Steps { get; init; }

    /// <summary>Masked LM: the fraction of (non-special) tokens chosen in each sequence.</summary>
    public double MaskProbability { get; init; } = 0.15;

    /// <summary>Span corruption: the fraction of tokens that are noise.</summary>
    public double NoiseDensity { get; init; } = 0.15;

    /// <summary>Span corruption: the mean length of a noise span.</summary>
    public double MeanSpanLength { get; init; } = 3;

    /// <summary>The domains in training order; null = the recipe's tasks, each one's training sentences as its corpus.</summary>
    public IReadOnlyList<CorpusSpec>? Corpora { get; init; }

    /// <summary>Training documents per domain at most (a seeded sample, file order kept); null = all.</summary>
    public int? MaxDocuments { get; init; }

    /// <summary>Fraction of each domain's documents held out (not trained on) to measure the objective's loss after each domain.</summary>
    public double HeldOutFraction { get; init; } = 0.02;

    /// <summary>Held-out documents per domain at most.</summary>
    public int MaxHeldOut { get; init; } = 200;
}
