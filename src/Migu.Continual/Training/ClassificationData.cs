using Migu.Continual.Data;
using Migu.Continual.Pretraining;
using Migu.Core;
using Migu.Models;
using Migu.Models.Tokenizers;
using static TorchSharp.torch;

namespace Migu.Continual.Training;

/// <summary>
/// Labelled texts for a classification head: each text framed as the family reads text
/// ([CLS] … [SEP] for BERT, &lt;s&gt; … &lt;/s&gt; for RoBERTa: <see cref="ModelFamily.Framing"/>), its
/// first tokens kept so that the whole row holds at most <c>maxLength</c>, and its label the class
/// index in the head's label list.
/// </summary>
public sealed class ClassificationData : ITrainingData
{
    private readonly int[][] inputs;
    private readonly long[] classes;
    private readonly int pad;

    /// <param name="texts">What the encoder reads.</param>
    /// <param name="targets">Each text's label string, one of <paramref name="labels"/> (null: unlabelled, for scoring).</param>
    /// <param name="labels">The head's classes, in row order.</param>
    /// <param name="tokenizer">The encoder's tokenizer.</param>
    /// <param name="framing">The ids put around each text.</param>
    /// <param name="maxLength">Tokens per row at most, framing included.</param>
    public ClassificationData(
        IReadOnlyList<string> texts, IReadOnlyList<string>? targets, IReadOnlyList<string> labels, ITextTokenizer tokenizer, TextFraming framing, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(texts);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(framing);
        int framed = (framing.Start is null ? 0 : 1) + (framing.End is null ? 0 : 1);
        if (maxLength < framed + 1)
        {
            throw new MiguUserException($"a classifier's inputs must hold at least {framed + 1} tokens, got a maximum length of {maxLength}");
        }

        var index = labels.Select((l, i) => (l, i)).ToDictionary(x => x.l, x => (long)x.i, StringComparer.Ordinal);
        pad = tokenizer.PadTokenId ?? tokenizer.EosTokenId ?? throw new MiguUserException("the tokenizer has neither a pad nor an EOS token");
        inputs = [.. texts.Select(t => Encode(tokenizer, framing, t, maxLength - framed))];
        classes = targets is null
            ? new long[texts.Count]
            : [.. targets.Select(t => index.TryGetValue(t, out long c) ? c : throw new MiguUserException($"label '{t}' is not one of the classifier's labels ({string.Join(", ", labels)})"))];
    }

    /// <summary>A task's examples (sentence and label) for a head over <paramref name="labels"/>.</summary>
    public static ClassificationData Of(IReadOnlyList<Example> examples, IReadOnlyList<string> labels, ITextTokenizer tokenizer, TextFraming framing, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(examples);
        return new ClassificationData([.. examples.Select(e => e.Sentence)], [.. examples.Select(e => e.Label)], labels, tokenizer, framing, maxLength);
    }

    public int Count => inputs.Length;

    /// <summary>The class index of example <paramref name="i"/>.</summary>
    public long ClassOf(int i) => classes[i];

    public int TokensOf(int index) => inputs[index].Length;

    public ModelBatch Collate(IReadOnlyList<int> indices, Device device)
    {
        ArgumentNullException.ThrowIfNull(indices);
        long[][] rows = [.. indices.Select(i => inputs[i].Select(id => (long)id).ToArray())];
        return new ModelBatch
        {
            InputIds = PaddedRows.Ids(rows, pad, device),
            AttentionMask = PaddedRows.Mask(rows, device),
            Labels = tensor([.. indices.Select(i => classes[i])], device: device),
        };
    }

    /// <summary>
    /// The arg-max class of every row that falls to rank <paramref name="rank"/> of
    /// <paramref name="worldSize"/> (index mod world size), by index. Rows are scored in batches of
    /// similar length, so little of a batch is padding; <paramref name="progress"/> gets the number scored.
    /// </summary>
    public IReadOnlyDictionary<int, string> Predict(
        LanguageModel classifier, IReadOnlyList<string> labels, int batchSize, Device device, Action<int>? progress = null, int rank = 0, int worldSize = 1)
    {
        ArgumentNullException.ThrowIfNull(classifier);
        ArgumentNullException.ThrowIfNull(labels);
        int[] mine = [.. Enumerable.Range(0, Count).Where(i => i % worldSize == rank).OrderBy(i => inputs[i].Length)];
        var answers = new Dictionary<int, string>(mine.Length);
        bool training = classifier.training;
        classifier.eval();
        try
        {
            using var noGrad = no_grad();
            for (int start = 0; start < mine.Length; start += batchSize)
            {
                using var scope = NewDisposeScope();
                int[] batch = mine[start..Math.Min(start + batchSize, mine.Length)];
                long[] best = classifier.forward(Collate(batch, device)).Logits.argmax(-1).cpu().data<long>().ToArray();
                for (int b = 0; b < batch.Length; b++)
                {
                    answers[batch[b]] = labels[(int)best[b]];
                }

                progress?.Invoke(answers.Count);
            }
        }
        finally
        {
            classifier.train(training);
        }

        return answers;
    }

    private static int[] Encode(ITextTokenizer tokenizer, TextFraming framing, string text, int keep)
    {
        IReadOnlyList<int> ids = tokenizer.Encode(text, addSpecialTokens: false);
        var row = new List<int>(Math.Min(ids.Count, keep) + 2);
        if (framing.Start is int start)
        {
            row.Add(start);
        }

        row.AddRange(ids.Take(keep));
        if (framing.End is int end)
        {
            row.Add(end);
        }

        return [.. row];
    }
}
