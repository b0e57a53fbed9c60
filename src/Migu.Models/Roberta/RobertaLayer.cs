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

/// <summary>Self-attention and its output sub-layer (transformers' RobertaAttention: <c>self</c>, <c>output</c>).</summary>
public sealed class RobertaAttention : nn.Module
{
    // Field names are the checkpoint keys.
    private readonly RobertaSelfAttention self;
    private readonly RobertaResidualOutput output;

    public RobertaAttention(RobertaConfig config, Device? device = null)
        : base(nameof(RobertaAttention))
    {
        self = new RobertaSelfAttention(config, device);
        output = new RobertaResidualOutput(config.HiddenSize, config, ProjectionKind.AttentionOutput, device);
        RegisterComponents();
    }

    public Tensor Forward(Tensor hidden, Tensor? keyMask)
    {
        using var scope = NewDisposeScope();
        Tensor attended = self.Forward(hidden, keyMask); // (B, T, C)
        return output.Forward(attended, hidden).MoveToOuterDisposeScope();
    }
}

/// <summary>The feed-forward input projection with exact (erf) GELU.</summary>
public sealed class RobertaIntermediate : nn.Module
{
    // Field name is the checkpoint key.
    private readonly Projection dense;

    public RobertaIntermediate(RobertaConfig config, Device? device = null)
        : base(nameof(RobertaIntermediate))
    {
        dense = new Projection(config.HiddenSize, config.IntermediateSize, kind: ProjectionKind.FeedForwardUp, device: device);
        RegisterComponents();
    }

    public Tensor Forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        return nn.functional.gelu(dense.call(hidden)).MoveToOuterDisposeScope(); // (B, T, I)
    }
}

/// <summary>One post-LN encoder block: attention sub-layer, then feed-forward sub-layer.</summary>
public sealed class RobertaLayer : nn.Module
{
    // Field names are the checkpoint keys.
    private readonly RobertaAttention attention;
    private readonly RobertaIntermediate intermediate;
    private readonly RobertaResidualOutput output;

    public RobertaLayer(RobertaConfig config, Device? device = null)
        : base(nameof(RobertaLayer))
    {
        attention = new RobertaAttention(config, device);
        intermediate = new RobertaIntermediate(config, device);
        output = new RobertaResidualOutput(config.IntermediateSize, config, ProjectionKind.FeedForwardDown, device);
        RegisterComponents();
    }

    /// <param name="hidden">(B, T, C)</param>
    /// <param name="keyMask">(B, 1, 1, T) bool or null.</param>
    public Tensor Forward(Tensor hidden, Tensor? keyMask)
    {
        using var scope = NewDisposeScope();
        Tensor a = attention.Forward(hidden, keyMask); // (B, T, C)
        Tensor f = intermediate.Forward(a); // (B, T, I)
        return output.Forward(f, a).MoveToOuterDisposeScope(); // (B, T, C)
    }
}
