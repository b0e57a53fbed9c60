using Migu.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Benchmarks;

/// <summary>A transformer-block-shaped stack of projections: per layer d→4d (FFN up), tanh, 4d→d (FFN down), residual.</summary>
internal sealed class ProjectionStack : nn.Module<Tensor, Tensor>
{
    private readonly nn.Module<Tensor, Tensor>[] ups;
    private readonly nn.Module<Tensor, Tensor>[] downs;

    public ProjectionStack(long width, int layers)
        : base(nameof(ProjectionStack))
    {
        ups = Enumerable.Range(0, layers).Select(_ => (nn.Module<Tensor, Tensor>)new Projection(width, 4 * width, kind: ProjectionKind.FeedForwardUp)).ToArray();
        downs = Enumerable.Range(0, layers).Select(_ => (nn.Module<Tensor, Tensor>)new Projection(4 * width, width, kind: ProjectionKind.FeedForwardDown)).ToArray();
        for (int i = 0; i < layers; i++)
        {
            register_module($"up{i}", ups[i]);
            register_module($"down{i}", downs[i]);
        }
    }

    public override Tensor forward(Tensor input)
    {
        Tensor h = input; // (B, T, d)
        for (int i = 0; i < ups.Length; i++)
        {
            h = h + downs[i].call(tanh(ups[i].call(h)));
        }

        return h;
    }
}
