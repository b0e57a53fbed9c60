using Migu.Continual.Data;
using Migu.Continual.Training;
using Migu.Core;
using Migu.Models;
using Migu.Models.Tokenizers;
using static TorchSharp.torch;

namespace Migu.Continual.Pretraining;

/// <summary>
/// Labelled sentences for a classification head: each sentence as &lt;s&gt; ids &lt;/s&gt; (its first
/// tokens, to <c>maxLength</c> in all), its label as the class index in the task's label order.
/// </summary>
public sealed class ClassificationData : ITrainingData
{
    private readonly int[][] inputs;
    private readonly long[] classes;
    private readonly int pad;

    public ClassificationData(IReadOnlyList<Example> examples, IReadOnlyList<string> labels, ITextTokenizer tokenizer, int maxLength)
    {
        ArgumentNullException.ThrowIfNull(examples);
        ArgumentNullException.ThrowIfNull(labels);
        ArgumentNullException.ThrowIfNull(tokenizer);
        if (maxLength < 3)
        {
            throw new MiguUserException($"end_tasks.max_length must be at least 3, got {maxLength}");
        }

        var index = labels.Select((l, i) => (l, i)).ToDictionary(x => x.l, x => (long)x.i, StringComparer.Ordinal);
        pad = tokenizer.PadTokenId ?? tokenizer.EosTokenId ?? throw new MiguUserException("the tokenizer has neither a pad nor an EOS token");
        inputs = [.. examples.Select(e => Encode(tokenizer, e.Sentence, maxLength))];
        classes = [.. examples.Select(e => index.TryGetValue(e.Label, out long c) ? c : throw new MiguUserException($"label '{e.Label}' is not one of the task's labels"))];
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

    private static int[] Encode(ITextTokenizer tokenizer, string sentence, int maxLength)
    {
        IReadOnlyList<int> ids = tokenizer.Encode(sentence, addSpecialTokens: false);
        int keep = Math.Min(ids.Count, maxLength - 2);
        var row = new List<int>(keep + 2);
        if (tokenizer.BosTokenId is int bos)
        {
            row.Add(bos);
        }

        row.AddRange(ids.Take(keep));
        if (tokenizer.EosTokenId is int eos)
        {
            row.Add(eos);
        }

        return [.. row];
    }
}
