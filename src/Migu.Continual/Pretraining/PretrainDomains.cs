using Migu.Continual.Data;
using Migu.Continual.Runs;
using Migu.Core;

namespace Migu.Continual.Pretraining;

/// <summary>
/// The domains of a pre-training run: the corpora <c>pretrain.corpora</c> names, or else one per
/// task, its corpus the sentences of the task's training split (the unlabeled view of a CL_Benchmark
/// dataset; see <see cref="Resolve"/>). Each domain's documents are
/// split with the run seed: a held-out sample (round(fraction·n), at least one when the fraction is
/// positive and there are two documents, at most max_held_out), then the rest capped by max_documents
/// (a seeded sample); both keep file order.
/// </summary>
public static class PretrainDomains
{
    /// <summary>
    /// The domains, split. <paramref name="textOf"/> gives a task's corpus when no corpora are named
    /// (the runner passes the whole training split from the data root, so data_options.max_train caps
    /// only the end tasks' labelled sets); by default the task's loaded training sentences.
    /// </summary>
    public static IReadOnlyList<PretrainDomain> Resolve(PretrainSettings settings, IReadOnlyList<LoadedTask> tasks, long seed, Func<LoadedTask, IReadOnlyList<string>>? textOf = null)
    {
        ArgumentNullException.ThrowIfNull(settings);
        ArgumentNullException.ThrowIfNull(tasks);
        Validate(settings);
        textOf ??= t => [.. t.Data.Train.Select(e => e.Sentence)];
        IReadOnlyList<(string Name, IReadOnlyList<string> Documents)> corpora = settings.Corpora is { } specs
            ? [.. specs.Select(c => (c.Name, TextCorpus.Read(c.Path)))]
            : [.. tasks.Select(t => (t.Name, textOf(t)))];
        if (corpora.Count == 0)
        {
            throw new MiguUserException("pretrain: no domains; list pretrain.corpora or the recipe's tasks");
        }

        string? twice = corpora.GroupBy(c => c.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1)?.Key;
        if (twice is not null)
        {
            throw new MiguUserException($"pretrain.corpora: the domain name '{twice}' is used twice");
        }

        return [.. corpora.Select(c => Split(c.Name, c.Documents, settings, seed))];
    }

    /// <summary>Refuses settings no run could use, naming the key.</summary>
    public static void Validate(PretrainSettings settings)
    {
        ArgumentNullException.ThrowIfNull(settings);
        if (settings.SeqLen < 8)
        {
            throw new MiguUserException($"pretrain.seq_len must be at least 8, got {settings.SeqLen}");
        }

        if (settings.Steps is int steps && steps < 1)
        {
            throw new MiguUserException($"pretrain.steps must be at least 1, got {steps}");
        }

        if (settings.HeldOutFraction is < 0 or >= 1)
        {
            throw new MiguUserException($"pretrain.held_out_fraction must be in [0, 1), got {settings.HeldOutFraction}");
        }

        if (settings.MaxDocuments is int max && max < 1 || settings.MaxHeldOut < 0)
        {
            throw new MiguUserException("pretrain.max_documents must be at least 1 and pretrain.max_held_out at least 0");
        }

        foreach (CorpusSpec c in settings.Corpora ?? [])
        {
            if (string.IsNullOrWhiteSpace(c.Name) || string.IsNullOrWhiteSpace(c.Path))
            {
                throw new MiguUserException("pretrain.corpora: every corpus needs a name and a path");
            }
        }
    }

    private static PretrainDomain Split(string name, IReadOnlyList<string> documents, PretrainSettings settings, long seed)
    {
        int heldOut = (int)Math.Round(settings.HeldOutFraction * documents.Count, MidpointRounding.AwayFromZero);
        if (settings.HeldOutFraction > 0 && documents.Count >= 2)
        {
            heldOut = Math.Max(1, heldOut);
        }

        heldOut = Math.Min(Math.Min(heldOut, settings.MaxHeldOut), documents.Count - 1);
        var order = Enumerable.Range(0, documents.Count).ToList();
        new SplitMix64(SplitMix64.Derive(seed, name, "held-out")).Shuffle(order);
        var held = order.Take(heldOut).Order().ToList();
        var rest = order.Skip(heldOut).ToList();
        if (settings.MaxDocuments is int max && rest.Count > max)
        {
            new SplitMix64(SplitMix64.Derive(seed, name, "pretrain-cap")).Shuffle(rest);
            rest = rest.Take(max).ToList();
        }

        rest.Sort();
        return new PretrainDomain(name, [.. rest.Select(i => documents[i])], [.. held.Select(i => documents[i])]);
    }
}
