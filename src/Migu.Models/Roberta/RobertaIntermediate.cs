using Migu.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Roberta;

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
