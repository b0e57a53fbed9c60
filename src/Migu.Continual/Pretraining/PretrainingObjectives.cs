using Migu.Core;
using Migu.Models;

namespace Migu.Continual.Pretraining;

/// <summary>The objective a recipe asks for, resolved against the model's family, and the object that implements it.</summary>
public static class PretrainingObjectives
{
    /// <summary>The objective <paramref name="requested"/> means for a model of <paramref name="family"/>; a mismatch is refused.</summary>
    public static PretrainObjective Resolve(PretrainObjective requested, ModelFamily family, string model)
    {
        ArgumentNullException.ThrowIfNull(family);
        PretrainObjective own = family.Objective;
        if (requested != PretrainObjective.Auto && requested != own)
        {
            throw new MiguUserException(
                $"objective {Name(requested)} does not fit {model}, a {family.Name} model; its objective is {Name(own)} (or use auto)");
        }

        return own;
    }

    /// <summary>The objective's name as recipes and flags write it.</summary>
    public static string Name(PretrainObjective objective) => objective.ToString().ToLowerInvariant();

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
