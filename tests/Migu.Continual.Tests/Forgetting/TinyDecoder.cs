using Migu.Models.Llama;
using Migu.Models.Tokenizers;
using static TorchSharp.torch;

namespace Migu.Continual.Tests.Forgetting;

/// <summary>A seeded llama-tiny over the compact tokenizer, and by-hand log-probabilities from unpadded single-sequence passes.</summary>
internal static class TinyDecoder
{
    public static ByteLevelBpeTokenizer Tokenizer { get; } = EmbeddedTokenizer.Compact();

    public static LlamaForCausalLM Create(int seed)
    {
        manual_seed(seed);
        var model = new LlamaForCausalLM(LlamaPresets.All["llama-tiny"] with { VocabSize = 2048, BosTokenId = 2, EosTokenIds = [1], PadTokenId = 0 });
        model.eval();
        return model;
    }

    /// <summary>log p(ids[t] | ids[..t]) for t = 1 … n − 1, from one pass over the sequence alone.</summary>
    public static double[] TokenLogProbs(LlamaForCausalLM model, int[] ids)
    {
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor input = tensor(ids.Select(i => (long)i).ToArray(), [1, ids.Length]);
        Tensor logp = model.forward(new Migu.Models.ModelBatch { InputIds = input }).Logits[0].log_softmax(-1); // (n, V)
        return [.. Enumerable.Range(1, ids.Length - 1).Select(t => (double)logp[t - 1, ids[t]].item<float>())];
    }
}
