using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Roberta;

/// <summary>What both RoBERTa heads share about their weights: fresh initialisation and checkpoint key rules.</summary>
internal static class RobertaWeights
{
    /// <summary>
    /// transformers' initialisation of a fresh model: weight matrices and embeddings from
    /// N(0, initializer_range), biases zero, LayerNorms (1, 0), the pad rows of the word and
    /// position embeddings zero.
    /// </summary>
    public static void Initialize(nn.Module model, RobertaConfig config)
    {
        using var noGrad = no_grad();
        foreach (var (name, p) in model.named_parameters())
        {
            bool isNorm = name.Contains("LayerNorm.", StringComparison.Ordinal) || name.Contains("layer_norm.", StringComparison.Ordinal);
            if (isNorm && name.EndsWith(".weight", StringComparison.Ordinal))
            {
                p.fill_(1.0);
            }
            else if (p.dim() == 2)
            {
                p.normal_(0.0, config.InitializerRange);
                if (name.EndsWith("word_embeddings.weight", StringComparison.Ordinal) || name.EndsWith("position_embeddings.weight", StringComparison.Ordinal))
                {
                    p[config.PadTokenId].zero_();
                }
            }
            else
            {
                p.zero_();
            }
        }
    }

    /// <summary>
    /// Stored keys neither head needs: position/token-type id buffers of older checkpoints and the
    /// pooler, which transformers' MLM and classification models do not build.
    /// </summary>
    public static bool IsIgnorable(string key) =>
        key is "roberta.embeddings.position_ids" or "roberta.embeddings.token_type_ids"
        || key.StartsWith("roberta.pooler.", StringComparison.Ordinal);
}
