using Migu.Core;
using static TorchSharp.torch;

namespace Migu.Models.Tokenizers;

public enum PaddingSide
{
    /// <summary>Pad after the tokens (encoders, training).</summary>
    Right,

    /// <summary>Pad before the tokens (decoder-only generation, so that the last position is real).</summary>
    Left,
}

/// <summary>
/// Token id lists padded into one batch: InputIds (B, T) int64 and AttentionMask (B, T) int64 with 1
/// on real tokens. T is the longest sequence, cut to MaxLength when given (truncation keeps the first
/// tokens, transformers' default truncation side). Owns its tensors.
/// </summary>
public sealed class TokenBatch : IDisposable
{
    private TokenBatch(Tensor inputIds, Tensor attentionMask)
    {
        InputIds = inputIds;
        AttentionMask = attentionMask;
    }

    /// <summary>(B, T) int64.</summary>
    public Tensor InputIds { get; }

    /// <summary>(B, T) int64, 1 for tokens and 0 for padding.</summary>
    public Tensor AttentionMask { get; }

    public static TokenBatch Create(IReadOnlyList<IReadOnlyList<int>> sequences, int padId, PaddingSide side = PaddingSide.Right, int? maxLength = null, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(sequences);
        if (sequences.Count == 0)
        {
            throw new MiguUserException("TokenBatch: no sequences to pad.");
        }

        if (maxLength is <= 0)
        {
            throw new MiguUserException($"TokenBatch: max length must be positive, got {maxLength}.");
        }

        int t = sequences.Max(s => s.Count);
        if (maxLength is int cap)
        {
            t = Math.Min(t, cap);
        }

        t = Math.Max(t, 1); // keep a (B, 1) shape for all-empty input; that column is padding
        int b = sequences.Count;
        var ids = new long[b * t];
        var mask = new long[b * t];
        Array.Fill(ids, padId);
        for (int row = 0; row < b; row++)
        {
            int n = Math.Min(sequences[row].Count, t);
            int offset = side == PaddingSide.Right ? 0 : t - n;
            for (int j = 0; j < n; j++)
            {
                ids[(row * t) + offset + j] = sequences[row][j];
                mask[(row * t) + offset + j] = 1;
            }
        }

        Tensor inputIds = tensor(ids, [b, t], dtype: ScalarType.Int64, device: device);
        Tensor attentionMask = tensor(mask, [b, t], dtype: ScalarType.Int64, device: device);
        return new TokenBatch(inputIds, attentionMask);
    }

    /// <summary>Encodes each text with <paramref name="tokenizer"/> and pads with its pad id (EOS when it has none).</summary>
    public static TokenBatch Encode(ITextTokenizer tokenizer, IReadOnlyList<string> texts, PaddingSide side = PaddingSide.Right, int? maxLength = null, bool addSpecialTokens = true, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(texts);
        int pad = tokenizer.PadTokenId ?? tokenizer.EosTokenId
            ?? throw new MiguUserException("TokenBatch: the tokenizer has neither a pad nor an EOS token to pad with.");
        return Create([.. texts.Select(x => tokenizer.Encode(x, addSpecialTokens))], pad, side, maxLength, device);
    }

    public void Dispose()
    {
        InputIds.Dispose();
        AttentionMask.Dispose();
    }
}
