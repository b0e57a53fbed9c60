using Migu.Core;

namespace Migu.Continual.Pretraining;

/// <summary>The objective object for a resolved <see cref="PretrainObjective"/> and the recipe's settings.</summary>
public static class PretrainingObjectives
{
    public static IPretrainingObjective Create(PretrainObjective kind, ObjectiveTokens tokens, PretrainSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        return kind switch
        {
            PretrainObjective.Mlm => new MaskedLanguageModeling(tokens, settings.MaskProbability),
            PretrainObjective.Span => new SpanCorruption(tokens, settings.SeqLen, settings.NoiseDensity, settings.MeanSpanLength),
            PretrainObjective.Causal => new CausalLanguageModeling(tokens),
            _ => throw new MiguUserException("the objective must be resolved (mlm, span or causal) before it is built"),
        };
    }
}
