using Migu.Core;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.T5;

/// <summary>
/// T5's <c>DenseReluDense</c>: wo(act(wi(x))) in v1.0, or wo(act(wi_0(x)) · wi_1(x)) when gated
/// (v1.1, FLAN). No biases; dropout before wo as transformers.
/// </summary>
internal sealed class T5FeedForward : nn.Module<Tensor, Tensor>
{
    private readonly Projection? wi;
    private readonly Projection? wi_0;
    private readonly Projection? wi_1;
    private readonly Projection wo;
    private readonly T5Activation activation;
    private readonly double dropout;

    public T5FeedForward(T5Config config, Device? device)
        : base("DenseReluDense")
    {
        activation = config.Activation;
        dropout = config.DropoutRate;
        if (config.IsGatedAct)
        {
            wi_0 = new Projection(config.DModel, config.DFf, hasBias: false, ProjectionKind.FeedForwardGate, device);
            wi_1 = new Projection(config.DModel, config.DFf, hasBias: false, ProjectionKind.FeedForwardUp, device);
            register_module("wi_0", wi_0);
            register_module("wi_1", wi_1);
        }
        else
        {
            wi = new Projection(config.DModel, config.DFf, hasBias: false, ProjectionKind.FeedForwardUp, device);
            register_module("wi", wi);
        }

        wo = new Projection(config.DFf, config.DModel, hasBias: false, ProjectionKind.FeedForwardDown, device);
        register_module("wo", wo);
    }

    public override Tensor forward(Tensor input)
    {
        using var scope = NewDisposeScope();
        Tensor hidden = wi is not null
            ? T5ActivationFunctions.Apply(activation, wi.call(input)) // (B, T, d_ff)
            : T5ActivationFunctions.Apply(activation, wi_0!.call(input)).mul(wi_1!.call(input));
        hidden = nn.functional.dropout(hidden, dropout, training);
        return wo.call(hidden).MoveToOuterDisposeScope(); // (B, T, d_model)
    }
}
