using Migu.Continual.Prompts;
using Migu.Core;
using Migu.Models;
using Migu.Models.Tokenizers;
using static TorchSharp.torch;

namespace Migu.Continual.Training;

/// <summary>
/// Turns prompts and answers into token ids and padded batches the way a model family trains:
/// T5 reads the prompt (+ EOS) and predicts the answer (+ EOS); Llama reads BOS + prompt and
/// predicts " " + answer + EOS after it, with loss on the answer only. Over-long prompts lose the
/// end of their sentence, not their instruction, options or "Answer:" line.
/// </summary>
public sealed class ExampleEncoder
{
    private const long IgnoreIndex = -100;
    private readonly int tailTokens;

    public ExampleEncoder(ITextTokenizer tokenizer, ModelFamily family, int maxSourceLength, int maxTargetLength)
    {
        ArgumentNullException.ThrowIfNull(family);
        if (!family.Generates)
        {
            throw new MiguUserException($"{family.Name} cannot generate labels; continual fine-tuning needs a T5 or Llama model ({family.Name} is for continual pre-training)");
        }

        if (maxSourceLength < 8 || maxTargetLength < 2)
        {
            throw new MiguUserException($"max source length must be ≥ 8 and max target length ≥ 2, got {maxSourceLength} and {maxTargetLength}");
        }

        Tokenizer = tokenizer;
        Family = family;
        MaxSourceLength = maxSourceLength;
        MaxTargetLength = maxTargetLength;
        Eos = tokenizer.EosTokenId ?? throw new MiguUserException("the tokenizer has no EOS token; a generative model needs one");
        Pad = tokenizer.PadTokenId ?? Eos;
        Bos = family.IsDecoderOnly ? tokenizer.BosTokenId : null;
        tailTokens = tokenizer.Encode(PromptLayout.Tail, addSpecialTokens: false).Count;
    }

    public ITextTokenizer Tokenizer { get; }

    public ModelFamily Family { get; }

    public int MaxSourceLength { get; }

    public int MaxTargetLength { get; }

    public int Eos { get; }

    public int Pad { get; }

    /// <summary>Llama's BOS, put before every prompt; null for T5.</summary>
    public int? Bos { get; }

    public bool DecoderOnly => Family.IsDecoderOnly;

    /// <summary>
    /// The prompt's ids as the model reads them (BOS first for Llama, EOS last for T5), within the
    /// source budget. A prompt that is too long loses the end of its sentence, never its head
    /// (task, instruction, options) or its "Answer:" line: a long instruction must not push the
    /// text to classify out of the model's view.
    /// </summary>
    public int[] EncodePrompt(string prompt)
    {
        int[] ids = [.. Tokenizer.Encode(prompt, addSpecialTokens: false)];
        int special = 1; // BOS (Llama) or EOS (T5)
        int budget = MaxSourceLength - special;
        if (ids.Length > budget)
        {
            ids = Shorten(prompt, ids, budget);
        }

        return DecoderOnly
            ? (Bos is int b ? [b, .. ids] : ids)
            : [.. ids, Eos];
    }

    /// <summary>
    /// Head + as much of the sentence as fits + tail, each part tokenized on its own (the parts meet
    /// at line breaks, where the tokenizers split anyway). Prompts not in the builder's layout keep
    /// their first tokens and the final "Answer:" line.
    /// </summary>
    private int[] Shorten(string prompt, int[] ids, int budget)
    {
        if (PromptLayout.Split(prompt) is var (headText, bodyText, tailText))
        {
            int[] head = [.. Tokenizer.Encode(headText, addSpecialTokens: false)];
            int[] body = [.. Tokenizer.Encode(bodyText, addSpecialTokens: false)];
            int[] tail = [.. Tokenizer.Encode(tailText, addSpecialTokens: false)];
            // Keep at least a quarter of the budget for the sentence; a very long head gives way first.
            int bodyKeep = Math.Min(body.Length, Math.Max(budget - head.Length - tail.Length, budget / 4));
            int headKeep = Math.Max(0, Math.Min(head.Length, budget - tail.Length - bodyKeep));
            int[] shortened = [.. head[..headKeep], .. body[..bodyKeep], .. tail];
            return shortened.Length <= budget ? shortened : shortened[..budget];
        }

        int keepTail = Math.Min(tailTokens, budget / 2);
        return [.. ids[..(budget - keepTail)], .. ids[^keepTail..]];
    }

    /// <summary>Tokens <paramref name="target"/> takes as an answer, EOS included, before any cut.</summary>
    public int TargetTokens(string target) => Tokenizer.Encode(DecoderOnly ? " " + target : target, addSpecialTokens: false).Count + 1;

    /// <summary>The answer's ids the model must produce, EOS last, cut to the target budget (EOS kept).</summary>
    public int[] EncodeTarget(string target)
    {
        // After "Answer:" a decoder continues with a space; T5's decoder starts fresh.
        string text = DecoderOnly ? " " + target : target;
        int[] ids = [.. Tokenizer.Encode(text, addSpecialTokens: false)];
        if (ids.Length > MaxTargetLength - 1)
        {
            ids = ids[..(MaxTargetLength - 1)];
        }

        return [.. ids, Eos];
    }

    public EncodedExample Encode(PromptedExample pair) => new(EncodePrompt(pair.Prompt), EncodeTarget(pair.Target));

    /// <summary>
    /// A padded training batch (right padding): T5 gets input ids, mask, labels (−100 on padding)
    /// and the decoder mask; Llama gets one sequence per example with labels only on the answer.
    /// </summary>
    public ModelBatch Collate(IReadOnlyList<EncodedExample> examples, Device device)
    {
        if (DecoderOnly)
        {
            int width = examples.Max(e => e.Tokens);
            var ids = new long[examples.Count * width];
            var mask = new long[ids.Length];
            var labels = new long[ids.Length];
            Array.Fill(ids, Pad);
            Array.Fill(labels, IgnoreIndex);
            for (int row = 0; row < examples.Count; row++)
            {
                EncodedExample e = examples[row];
                int offset = row * width;
                for (int j = 0; j < e.Tokens; j++)
                {
                    bool isTarget = j >= e.Source.Length;
                    long id = isTarget ? e.Target[j - e.Source.Length] : e.Source[j];
                    ids[offset + j] = id;
                    mask[offset + j] = 1;
                    labels[offset + j] = isTarget ? id : IgnoreIndex;
                }
            }

            long[] shape = [examples.Count, width];
            return new ModelBatch
            {
                InputIds = tensor(ids, shape, device: device),
                AttentionMask = tensor(mask, shape, device: device),
                Labels = tensor(labels, shape, device: device),
            };
        }

        (Tensor src, Tensor srcMask) = Pad2D(examples.Select(e => e.Source).ToList(), Pad, device);
        (Tensor tgt, Tensor tgtMask) = Pad2D(examples.Select(e => e.Target).ToList(), IgnoreIndex, device);
        return new ModelBatch { InputIds = src, AttentionMask = srcMask, Labels = tgt, DecoderAttentionMask = tgtMask };
    }

    /// <summary>Right-padded (B, T) ids and their (B, T) mask.</summary>
    internal static (Tensor Ids, Tensor Mask) Pad2D(IReadOnlyList<int[]> rows, long padValue, Device device)
    {
        int width = Math.Max(1, rows.Max(r => r.Length));
        var ids = new long[rows.Count * width];
        var mask = new long[ids.Length];
        Array.Fill(ids, padValue);
        for (int row = 0; row < rows.Count; row++)
        {
            for (int j = 0; j < rows[row].Length; j++)
            {
                ids[(row * width) + j] = rows[row][j];
                mask[(row * width) + j] = 1;
            }
        }

        long[] shape = [rows.Count, width];
        return (tensor(ids, shape, device: device), tensor(mask, shape, device: device));
    }
}

/// <summary>
/// One example as token ids, before padding. For an encoder–decoder, <see cref="Source"/> feeds the
/// encoder and <see cref="Target"/> is the decoder's labels; for a decoder-only model, the sequence
/// is Source followed by Target and only Target's positions carry loss.
/// </summary>
public sealed record EncodedExample(int[] Source, int[] Target)
{
    /// <summary>Tokens the model processes for this example (what throughput counts).</summary>
    public int Tokens => Source.Length + Target.Length;
}
