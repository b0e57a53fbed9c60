using Migu.Core;
using Migu.Models;

namespace Migu.Continual.Pretraining;

/// <summary>
/// A recipe's <c>pretrain</c> section: the run trains domain after domain on unlabeled text (the DAS
/// protocol) instead of fine-tuning on prompts. The optimiser settings (lr, batch, schedule,
/// clipping, checkpoints) are the recipe's <c>training</c> section's.
/// </summary>
public sealed record PretrainSettings
{
    [Option("mlm, span, causal, or auto: the family's own", Flag = "--objective", Scopes = OptionScopes.Pretrain)]
    public PretrainObjective Objective { get; init; } = PretrainObjective.Auto;

    [Option("Tokens per packed sequence (span corruption: before corruption)", Flag = "--seq-len", Scopes = OptionScopes.Pretrain)]
    public int SeqLen { get; init; } = 128;

    [Option("Optimizer steps per domain (absent: training.epochs passes over it)", Flag = "--steps", Aliases = ["--max-steps"], Scopes = OptionScopes.Pretrain)]
    public int? Steps { get; init; }

    [Option("Masked LM: the fraction of (non-special) tokens chosen in each sequence")]
    public double MaskProbability { get; init; } = 0.15;

    [Option("Span corruption: the fraction of tokens that are noise")]
    public double NoiseDensity { get; init; } = 0.15;

    [Option("Span corruption: the mean length of a noise span")]
    public double MeanSpanLength { get; init; } = 3;

    [Option("[{\"name\", \"path\"}, …] in training order (absent: one domain per task, its whole training split; data_options.max_train caps only the end tasks)")]
    public IReadOnlyList<CorpusSpec>? Corpora { get; init; }

    [Option("Training documents per domain at most (a seeded sample, file order kept)", Flag = "--max-documents", Scopes = OptionScopes.Pretrain)]
    public int? MaxDocuments { get; init; }

    [Option("Fraction of each domain's documents held out (not trained on) for the held-out loss after each domain")]
    public double HeldOutFraction { get; init; } = 0.02;

    [Option("Held-out documents per domain at most")]
    public int MaxHeldOut { get; init; } = 200;
}
