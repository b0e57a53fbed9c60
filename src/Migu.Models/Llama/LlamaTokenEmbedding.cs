using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Models.Llama;

/// <summary>
/// Token embedding table (parameter name <c>weight</c>, vocab × hidden). Takes its weight from
/// outside so a tied model can share one Parameter with lm_head. As nn.Embedding with
/// padding_idx, the pad token's row gets no gradient from the lookup.
/// </summary>
internal sealed class LlamaTokenEmbedding : nn.Module<Tensor, Tensor>
{
    private readonly Parameter weight;
    private readonly long? paddingIdx;

    public LlamaTokenEmbedding(Parameter weight, long? paddingIdx)
        : base(nameof(LlamaTokenEmbedding))
    {
        this.weight = weight;
        this.paddingIdx = paddingIdx;
        register_parameter("weight", weight);
    }

    public Parameter Weight => weight;

    public override Tensor forward(Tensor inputIds)
    {
        using var scope = NewDisposeScope();
        Tensor ids = inputIds.reshape(-1); // (N)
        Tensor rows = weight.index_select(0, ids); // (N, C)
        if (paddingIdx is long pad && pad >= 0 && pad < weight.shape[0])
        {
            rows = where(ids.eq(pad).unsqueeze(1), rows.detach(), rows);
        }

        long[] shape = [.. inputIds.shape, weight.shape[1]];
        return rows.reshape(shape).MoveToOuterDisposeScope(); // (B, T, C)
    }
}
