using Migu.Core;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Models.T5;

/// <summary>
/// T5's <c>shared</c> token embedding (vocab × d_model), parameter <c>weight</c>. Tied to the head,
/// it owns nothing and reads the head projection's weight: one tensor, listed once as
/// <c>shared.weight</c> (named_parameters skips the second sighting as <c>lm_head.weight</c>), and
/// still one tensor after the model is moved, because only the projection holds it.
/// </summary>
internal sealed class T5SharedEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly Parameter? weight;
    // A getter, not the projection itself: a module-typed field would be registered as a submodule.
    private readonly Func<Parameter>? tiedWeight;

    /// <summary>An embedding with its own weight (the model initialises it).</summary>
    public T5SharedEmbedding(long vocabSize, long dModel, Device? device)
        : base("shared")
    {
        weight = new Parameter(empty(vocabSize, dModel, device: device));
        register_parameter("weight", weight);
    }

    /// <summary>An embedding that is the head's weight.</summary>
    public T5SharedEmbedding(Projection tiedHead)
        : base("shared")
    {
        ArgumentNullException.ThrowIfNull(tiedHead);
        tiedWeight = () => tiedHead.Weight;
    }

    public Parameter Weight => tiedWeight?.Invoke() ?? weight!;

    public override IEnumerable<(string name, Parameter parameter)> named_parameters(bool recurse = true)
    {
        yield return ("weight", Weight);
    }

    // Moving a module converts what named_parameters lists; a tied table lists the head's weight, which
    // the head converts itself. Converting it here as well would dispose the head's tensor.
    protected override nn.Module _to(Device device, ScalarType dtype, bool non_blocking) =>
        tiedWeight is null ? base._to(device, dtype, non_blocking) : this;

    protected override nn.Module _to(DeviceType deviceType, int deviceIndex, bool non_blocking) =>
        tiedWeight is null ? base._to(deviceType, deviceIndex, non_blocking) : this;

    protected override nn.Module _to(ScalarType dtype, bool non_blocking) =>
        tiedWeight is null ? base._to(dtype, non_blocking) : this;

    public override Tensor forward(Tensor ids)
    {
        using var scope = NewDisposeScope();
        Tensor rows = Weight.index_select(0, ids.reshape(-1)); // (B·T, d_model)
        return rows.reshape([.. ids.shape, Weight.shape[1]]).MoveToOuterDisposeScope(); // (B, T, d_model)
    }
}
