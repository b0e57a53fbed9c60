using Migu.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Roberta;

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
