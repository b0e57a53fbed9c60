using Migu.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Llama;

/// <summary>SwiGLU feed-forward: down_proj(silu(gate_proj(x)) · up_proj(x)).</summary>
internal sealed class LlamaMlp : nn.Module<Tensor, Tensor>
{
    private readonly Projection gate_proj;
    private readonly Projection up_proj;
    private readonly Projection down_proj;

    public LlamaMlp(LlamaConfig config, Device? device)
        : base(nameof(LlamaMlp))
    {
        gate_proj = new Projection(config.HiddenSize, config.IntermediateSize, config.MlpBias, ProjectionKind.FeedForwardGate, device);
        up_proj = new Projection(config.HiddenSize, config.IntermediateSize, config.MlpBias, ProjectionKind.FeedForwardUp, device);
        down_proj = new Projection(config.IntermediateSize, config.HiddenSize, config.MlpBias, ProjectionKind.FeedForwardDown, device);
        RegisterComponents();
    }

    public override Tensor forward(Tensor x)
    {
        using var scope = NewDisposeScope();
        Tensor gated = nn.functional.silu(gate_proj.call(x)).mul(up_proj.call(x)); // (B, T, I)
        return down_proj.call(gated).MoveToOuterDisposeScope(); // (B, T, C)
    }
}
