using Migu.Models.Blocks;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Llama;

/// <summary>Pre-norm block: x + attn(input_layernorm(x)), then h + mlp(post_attention_layernorm(h)).</summary>
internal sealed class LlamaDecoderLayer : nn.Module
{
    private readonly LlamaAttention self_attn;
    private readonly LlamaMlp mlp;
    private readonly RmsNorm input_layernorm;
    private readonly RmsNorm post_attention_layernorm;
    private readonly int index;

    public LlamaDecoderLayer(LlamaConfig config, int index, Device? device)
        : base(nameof(LlamaDecoderLayer))
    {
        this.index = index;
        self_attn = new LlamaAttention(config, device);
        mlp = new LlamaMlp(config, device);
        input_layernorm = new RmsNorm(config.HiddenSize, config.RmsNormEps, device);
        post_attention_layernorm = new RmsNorm(config.HiddenSize, config.RmsNormEps, device);
        RegisterComponents();
    }

    /// <summary><paramref name="x"/> (B, T, C) → (B, T, C).</summary>
    public Tensor Forward(Tensor x, Tensor cos, Tensor sin, Tensor? mask, LlamaKvCache? cache)
    {
        using var scope = NewDisposeScope();
        Tensor h = x.add(self_attn.Forward(input_layernorm.call(x), cos, sin, mask, cache, index));
        return h.add(mlp.call(post_attention_layernorm.call(h))).MoveToOuterDisposeScope();
    }
}
