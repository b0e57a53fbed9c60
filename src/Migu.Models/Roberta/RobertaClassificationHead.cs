using Migu.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Roberta;

/// <summary>
/// The sequence-classification head on the &lt;s&gt; token: dropout, dense, tanh, dropout,
/// out_proj. Both projections are <see cref="ProjectionKind.Head"/> (outside the blocks; MIGU's
/// "head" selection names them).
/// </summary>
public sealed class RobertaClassificationHead : nn.Module
{
    // Field names are the checkpoint keys.
    private readonly Projection dense;
    private readonly Projection out_proj;
    private readonly double dropout;

    public RobertaClassificationHead(RobertaConfig config, Device? device = null)
        : base(nameof(RobertaClassificationHead))
    {
        dropout = config.ClassifierDropout ?? config.HiddenDropoutProb;
        dense = new Projection(config.HiddenSize, config.HiddenSize, kind: ProjectionKind.Head, device: device);
        out_proj = new Projection(config.HiddenSize, config.NumLabels, kind: ProjectionKind.Head, device: device);
        RegisterComponents();
    }

    /// <param name="features">(B, T, C) encoder output.</param>
    /// <returns>(B, num_labels) logits.</returns>
    public Tensor Forward(Tensor features)
    {
        using var scope = NewDisposeScope();
        Tensor x = features.select(1, 0); // (B, C), the <s> token
        x = nn.functional.dropout(x, dropout, training);
        x = dense.call(x).tanh();
        x = nn.functional.dropout(x, dropout, training);
        return out_proj.call(x).MoveToOuterDisposeScope(); // (B, num_labels)
    }
}
