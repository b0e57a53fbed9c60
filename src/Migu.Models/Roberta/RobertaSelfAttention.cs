using Migu.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Roberta;

/// <summary>Multi-head self-attention of one block: query, key, value projections and scaled dot-product attention over real keys.</summary>
public sealed class RobertaSelfAttention : nn.Module
{
    // Field names are the checkpoint keys.
    private readonly Projection query;
    private readonly Projection key;
    private readonly Projection value;
    private readonly RobertaConfig config;

    public RobertaSelfAttention(RobertaConfig config, Device? device = null)
        : base(nameof(RobertaSelfAttention))
    {
        this.config = config;
        query = new Projection(config.HiddenSize, config.HiddenSize, kind: ProjectionKind.Query, device: device);
        key = new Projection(config.HiddenSize, config.HiddenSize, kind: ProjectionKind.Key, device: device);
        value = new Projection(config.HiddenSize, config.HiddenSize, kind: ProjectionKind.Value, device: device);
        RegisterComponents();
    }

    /// <param name="hidden">(B, T, C)</param>
    /// <param name="keyMask">(B, 1, 1, T) bool, true for keys that may be attended; null when nothing is padded.</param>
    /// <returns>(B, T, C), heads concatenated.</returns>
    public Tensor Forward(Tensor hidden, Tensor? keyMask)
    {
        using var scope = NewDisposeScope();
        long b = hidden.shape[0], t = hidden.shape[1];
        long h = config.NumAttentionHeads, d = config.HeadDim;
        Tensor q = query.call(hidden).view(b, t, h, d).transpose(1, 2); // (B, H, T, D)
        Tensor k = key.call(hidden).view(b, t, h, d).transpose(1, 2); // (B, H, T, D)
        Tensor v = value.call(hidden).view(b, t, h, d).transpose(1, 2); // (B, H, T, D)
        double dropout = training ? config.AttentionProbsDropoutProb : 0.0;
        Tensor y = nn.functional.scaled_dot_product_attention(q, k, v, keyMask, dropout); // (B, H, T, D)
        return y.transpose(1, 2).reshape(b, t, h * d).MoveToOuterDisposeScope(); // (B, T, C)
    }
}
