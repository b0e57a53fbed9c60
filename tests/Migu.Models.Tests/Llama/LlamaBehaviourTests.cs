using Migu.Models.Llama;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Tests.Llama;

public class LlamaBehaviourTests
{
    private static readonly LlamaConfig Tiny = LlamaPresets.All["llama-tiny"] with { InitializerRange = 0.2 };

    [Fact]
    public void Linear_rope_divides_every_default_frequency_by_the_factor()
    {
        var plain = new LlamaRotaryEmbedding(Tiny).InverseFrequencies;
        var linear = new LlamaRotaryEmbedding(Tiny with { RopeType = LlamaRopeType.Linear, RopeFactor = 4.0 }).InverseFrequencies;
        Assert.Equal(Tiny.HeadDim / 2, plain.Count);
        for (int i = 0; i < plain.Count; i++)
        {
            Assert.Equal(plain[i] / 4.0f, linear[i], 1e-7f);
        }

        Assert.Equal(1.0f, plain[0]);
    }

    [Fact]
    public void Cached_greedy_generation_equals_recomputing_the_whole_sequence_each_step()
    {
        torch.manual_seed(7);
        using var model = new LlamaForCausalLM(Tiny);
        model.eval();
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor prompt = randint(3, Tiny.VocabSize, [2, 5], dtype: ScalarType.Int64);
        Tensor generated = model.Generate(prompt, null, 6, eosTokenIds: [], padTokenId: null);

        Tensor tokens = prompt;
        for (int i = 0; i < 6; i++)
        {
            Tensor logits = model.call(new ModelBatch { InputIds = tokens }).Logits; // (B, T, V)
            tokens = cat([tokens, logits.select(1, -1).argmax(-1).unsqueeze(1)], 1);
        }

        Assert.Equal(tokens.data<long>().ToArray(), generated.data<long>().ToArray());
    }

    [Fact]
    public void Attention_dropout_acts_in_training_mode_only()
    {
        torch.manual_seed(3);
        using var model = new LlamaForCausalLM(Tiny with { AttentionDropout = 0.5 });
        using var scope = NewDisposeScope();
        using var noGrad = no_grad();
        Tensor ids = randint(3, Tiny.VocabSize, [1, 8], dtype: ScalarType.Int64);
        var batch = new ModelBatch { InputIds = ids };
        model.eval();
        Assert.True(model.call(batch).Logits.eq(model.call(batch).Logits).all().item<bool>());
        model.train();
        Assert.False(model.call(batch).Logits.eq(model.call(batch).Logits).all().item<bool>());
    }

    [Fact]
    public void Training_steps_and_generation_leave_no_live_tensors_behind()
    {
        torch.manual_seed(5);
        using var model = new LlamaForCausalLM(Tiny with { TieWordEmbeddings = true, PadTokenId = 0 });
        using var ids = randint(3, Tiny.VocabSize, [2, 6], dtype: ScalarType.Int64);
        using var mask = tensor(new long[] { 0, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1 }).reshape(2, 6);

        void Round()
        {
            using (var scope = NewDisposeScope())
            {
                model.zero_grad();
                model.call(new ModelBatch { InputIds = ids, AttentionMask = mask, Labels = ids }).Loss!.backward();
            }

            using Tensor generated = model.Generate(ids, mask, 3, eosTokenIds: [7], padTokenId: 0);
        }

        Round(); // gradients come to life here
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 5; i++)
        {
            Round();
        }

        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
