using Migu.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Roberta;

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
