using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Models.Roberta;

/// <summary>The stack of encoder blocks (transformers' RobertaEncoder, blocks under <c>layer.{i}</c>).</summary>
public sealed class RobertaEncoder : nn.Module
{
    // Field name is the checkpoint key.
    private readonly ModuleList<RobertaLayer> layer;

    public RobertaEncoder(RobertaConfig config, Device? device = null)
        : base(nameof(RobertaEncoder))
    {
        layer = new ModuleList<RobertaLayer>();
        for (long i = 0; i < config.NumHiddenLayers; i++)
        {
            layer.append(new RobertaLayer(config, device));
        }

        RegisterComponents();
    }

    public Tensor Forward(Tensor hidden, Tensor? keyMask)
    {
        Tensor x = hidden;
        foreach (RobertaLayer block in layer)
        {
            using var scope = NewDisposeScope();
            x = block.Forward(x, keyMask).MoveToOuterDisposeScope(); // (B, T, C)
        }

        return x;
    }
}
