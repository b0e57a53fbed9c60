using Migu.Continual.Runs;
using Migu.Continual.Training;
using Migu.Core;
using Migu.Models;
using Migu.Models.Tokenizers;
using static TorchSharp.torch;

namespace Migu.Continual.Evaluation;

/// <summary>
/// Multiple-choice questions answered by log-likelihood, as lm-evaluation-harness scores HellaSwag,
/// WinoGrande and ARC: each choice's score is Σ log p(choice tokens | context) from one
/// teacher-forced pass (eval mode, no gradients). A decoder reads BOS + context and continues with
/// " " + choice (the space lm-eval puts between them); a too-long pair loses context tokens from the
/// left. T5 reads the context (+ EOS) and its decoder scores the choice.
/// </summary>
public sealed class MultipleChoiceScorer
{
    private readonly LanguageModel model;
    private readonly ITextTokenizer tokenizer;
    private readonly ExampleEncoder encoder;
    private readonly Device device;
    private readonly int batchSize;
    private readonly long? maxLength;

    public MultipleChoiceScorer(LanguageModel model, ITextTokenizer tokenizer, Device device, int batchSize = 32)
    {
        ArgumentNullException.ThrowIfNull(model);
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (!model.Family.Generates)
        {
            throw new MiguUserException($"multiple-choice scoring by log-likelihood needs a T5 or Llama model, not a {model.Family.Name} encoder");
        }

        this.model = model;
        this.tokenizer = tokenizer;
        this.device = device;
        this.batchSize = Math.Max(1, batchSize);
        maxLength = model.MaxPositions;
        encoder = new ExampleEncoder(tokenizer, model.Family, maxSourceLength: 8, maxTargetLength: 2); // for its collation only
    }

    public MultipleChoiceScore Score(IReadOnlyList<MultipleChoiceItem> items, Action<int>? progress = null) =>
        MultipleChoiceScore.Of(items, LogLikelihoods(items, progress));

    /// <summary>Each item's choices scored: Σ log p(choice tokens | context).</summary>
    public IReadOnlyList<double[]> LogLikelihoods(IReadOnlyList<MultipleChoiceItem> items, Action<int>? progress = null)
    {
        ArgumentNullException.ThrowIfNull(items);
        var pairs = new List<(int Item, int Choice, EncodedExample Pair)>();
        for (int q = 0; q < items.Count; q++)
        {
            for (int c = 0; c < items[q].Choices.Count; c++)
            {
                pairs.Add((q, c, Pair(items[q].Context, items[q].Choices[c])));
            }
        }

        double[][] scores = [.. items.Select(i => new double[i.Choices.Count])];
        bool wasTraining = model.training;
        model.eval();
        try
        {
            using var noGrad = no_grad();
            foreach (int[] batch in BatchPlan.Sequential(pairs.Count, batchSize))
            {
                float[] sums = SequenceScores.LogLikelihoods(model, encoder, [.. batch.Select(b => pairs[b].Pair)], device);
                for (int b = 0; b < batch.Length; b++)
                {
                    var (q, c, _) = pairs[batch[b]];
                    scores[q][c] = sums[b];
                }

                progress?.Invoke(pairs[batch[^1]].Item + 1);
            }
        }
        finally
        {
            model.train(wasTraining);
        }

        return scores;
    }

    /// <summary>The context as the model reads it and the choice's tokens it scores.</summary>
    internal EncodedExample Pair(string context, string choice)
    {
        if (!model.Family.IsDecoderOnly)
        {
            int eos = tokenizer.EosTokenId ?? throw new MiguUserException("the tokenizer has no EOS token");
            return new EncodedExample([.. tokenizer.Encode(context, addSpecialTokens: false), eos], [.. tokenizer.Encode(choice, addSpecialTokens: false)]);
        }

        int[] contextIds = [.. tokenizer.Encode(context, addSpecialTokens: false)];
        int[] choiceIds = [.. tokenizer.Encode(" " + choice, addSpecialTokens: false)];
        int[] start = tokenizer.BosTokenId is int bos ? [bos] : [];
        if (maxLength is long max && start.Length + contextIds.Length + choiceIds.Length > max)
        {
            long room = max - start.Length - choiceIds.Length;
            if (room < 1)
            {
                throw new MiguUserException($"a choice of {choiceIds.Length} tokens does not fit the model's {max} positions with any context");
            }

            contextIds = contextIds[^(int)room..]; // lm-eval keeps the end of the context
        }

        return new EncodedExample([.. start, .. contextIds], choiceIds);
    }
}
