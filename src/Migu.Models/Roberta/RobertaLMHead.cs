using Migu.Core;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Models.Roberta;

/// <summary>
/// The masked-LM head: dense, exact GELU, layer_norm, then the decoder, whose weight is the word
/// embedding matrix and whose bias is <c>lm_head.bias</c> (both tied, as in transformers, so the
/// decoder owns no parameter and the state dict lists neither twice).
/// </summary>
/// <remarks>
/// Both <c>dense</c> and <c>decoder</c> are <see cref="ProjectionKind.Head"/> projections, as
/// transformers' are nn.Linear: they sit outside the encoder blocks, so MIGU's "all", "attention"
/// and "ffn" selections leave them, and "head" selects them (with a classifier's projections).
/// The decoder's magnitudes are Σ over real tokens of |logits| per vocabulary entry, and its
/// weight is the word embedding: masking a decoder row freezes (update mode) or zeroes the gradient
/// of (gradient mode) that token's embedding row, whatever part of the gradient came through the
/// input lookup. That is the only consistent choice for one tensor, and the same as masking a tied
/// T5 or Llama lm_head; it is why "head" is never part of MIGU's default selection.
/// </remarks>
public sealed class RobertaLMHead : nn.Module
{
    // Field names are the checkpoint keys.
    private readonly Projection dense;
    private readonly LayerNorm layer_norm;
    private readonly Projection decoder;
    private readonly Parameter bias;

    /// <param name="config">The model's sizes.</param>
    /// <param name="wordEmbedding">Reads the word embedding matrix (V, C), the decoder's weight, wherever it is now.</param>
    /// <param name="device">Where the head's own parameters are created.</param>
    public RobertaLMHead(RobertaConfig config, Func<Parameter> wordEmbedding, Device? device = null)
        : base(nameof(RobertaLMHead))
    {
        dense = new Projection(config.HiddenSize, config.HiddenSize, kind: ProjectionKind.Head, device: device);
        layer_norm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps, device: device);
        bias = new Parameter(zeros(config.VocabSize, device: device));
        decoder = Projection.Tied(wordEmbedding, () => bias, ProjectionKind.Head);
        RegisterComponents();
    }

    /// <param name="features">(B, T, C)</param>
    /// <returns>(B, T, V) logits.</returns>
    public Tensor Forward(Tensor features)
    {
        using var scope = NewDisposeScope();
        Tensor x = nn.functional.gelu(dense.call(features)); // (B, T, C)
        x = layer_norm.call(x);
        return decoder.call(x).MoveToOuterDisposeScope(); // (B, T, V)
    }
}
