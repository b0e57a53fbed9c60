using static TorchSharp.torch;

namespace Migu.Models;

/// <summary>
/// The tensors of one forward pass, as transformers names them. Encoder-only and decoder-only
/// models read InputIds, AttentionMask and Labels; T5 also reads the decoder fields (when
/// DecoderInputIds is null, T5 shifts Labels right as transformers does).
/// </summary>
public sealed class ModelBatch
{
    /// <summary>(B, T) int64 token ids.</summary>
    public required Tensor InputIds { get; init; }

    /// <summary>(B, T), 1 for real tokens and 0 for padding; null means no padding.</summary>
    public Tensor? AttentionMask { get; init; }

    /// <summary>Targets for the loss; −100 marks positions that carry no loss. Causal LMs shift them inside.</summary>
    public Tensor? Labels { get; init; }

    /// <summary>(B, T_dec) for encoder–decoder models.</summary>
    public Tensor? DecoderInputIds { get; init; }

    /// <summary>(B, T_dec) padding mask of the decoder inputs.</summary>
    public Tensor? DecoderAttentionMask { get; init; }
}

/// <summary>What a forward pass returns: logits (B, T, V) or (B, C) for a classifier, and the loss when labels were given.</summary>
public sealed record ModelOutput(Tensor Logits, Tensor? Loss);
