using Migu.Core;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Models.Roberta;

/// <summary>
/// The masked-LM head: dense, exact GELU, layer_norm, then the decoder, whose weight is the word
/// embedding matrix (tied, so it is not a parameter of its own) and whose bias is <c>lm_head.bias</c>.
/// </summary>
/// <remarks>
/// <c>dense</c> is <see cref="ProjectionKind.Head"/>: it sits outside the encoder blocks and
/// belongs to the pre-training head, so MIGU's "all", "attention" and "ffn" selections leave it,
/// and "head" selects it together with a classifier's projections. The decoder is a tied view of
/// the embedding, not a <see cref="Projection"/>: masking its rows would mask embedding rows.
/// </remarks>
public sealed class RobertaLMHead : nn.Module
{
    // Field names are the checkpoint keys.
    private readonly Projection dense;
    private readonly LayerNorm layer_norm;
    private readonly Parameter bias;

    public RobertaLMHead(RobertaConfig config, Device? device = null)
        : base(nameof(RobertaLMHead))
    {
        dense = new Projection(config.HiddenSize, config.HiddenSize, kind: ProjectionKind.Head, device: device);
        layer_norm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps, device: device);
        bias = new Parameter(zeros(config.VocabSize, device: device));
        RegisterComponents();
    }

    /// <param name="features">(B, T, C)</param>
    /// <param name="decoderWeight">(V, C), the word embedding matrix.</param>
    /// <returns>(B, T, V) logits.</returns>
    public Tensor Forward(Tensor features, Tensor decoderWeight)
    {
        using var scope = NewDisposeScope();
        Tensor x = nn.functional.gelu(dense.call(features)); // (B, T, C)
        x = layer_norm.call(x);
        return nn.functional.linear(x, decoderWeight, bias).MoveToOuterDisposeScope(); // (B, T, V)
    }
}
