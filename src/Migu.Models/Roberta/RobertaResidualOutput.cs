using Migu.Core;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Models.Roberta;

/// <summary>
/// A projection, dropout, then LayerNorm of the residual sum: the post-LN "output" of both
/// sub-layers (transformers' RobertaSelfOutput and RobertaOutput).
/// </summary>
public sealed class RobertaResidualOutput : nn.Module
{
    // Field names are the checkpoint keys.
    private readonly Projection dense;
    private readonly LayerNorm LayerNorm;
    private readonly double dropout;

    public RobertaResidualOutput(long inFeatures, RobertaConfig config, ProjectionKind kind, Device? device = null)
        : base(nameof(RobertaResidualOutput))
    {
        dropout = config.HiddenDropoutProb;
        dense = new Projection(inFeatures, config.HiddenSize, kind: kind, device: device);
        LayerNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps, device: device);
        RegisterComponents();
    }

    /// <param name="input">(B, T, inFeatures)</param>
    /// <param name="residual">(B, T, C)</param>
    public Tensor Forward(Tensor input, Tensor residual)
    {
        using var scope = NewDisposeScope();
        Tensor y = nn.functional.dropout(dense.call(input), dropout, training); // (B, T, C)
        return LayerNorm.call(y.add(residual)).MoveToOuterDisposeScope();
    }
}
