using Migu.Core;
using static TorchSharp.torch;

namespace Migu.Models.Llama;

/// <summary>Greedy decoding with a KV cache, as transformers' generate(do_sample=False).</summary>
public sealed partial class LlamaForCausalLM
{
    /// <summary>
    /// Greedy decoding of up to <paramref name="maxNewTokens"/> tokens after LEFT-padded prompts
    /// <paramref name="inputIds"/> (B, T0). Returns the prompts followed by the new tokens
    /// (B, T0 + n); rows that produced an EOS id get the pad id afterwards, and decoding stops
    /// early once every row has. Uses <see cref="GenerationEosTokenIds"/> and <see cref="GenerationPadTokenId"/>.
    /// </summary>
    public override Tensor Generate(Tensor inputIds, Tensor? attentionMask, int maxNewTokens) =>
        Generate(inputIds, attentionMask, maxNewTokens, GenerationEosTokenIds, GenerationPadTokenId);

    /// <summary>Greedy decoding with explicit EOS ids (empty: never stop early) and pad id (null: the first EOS id).</summary>
    public Tensor Generate(Tensor inputIds, Tensor? attentionMask, int maxNewTokens, IReadOnlyList<long> eosTokenIds, long? padTokenId)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        ArgumentNullException.ThrowIfNull(eosTokenIds);
        CheckIds(inputIds, attentionMask);
        if (maxNewTokens < 0)
        {
            throw new MiguUserException($"max new tokens must be zero or more, got {maxNewTokens}");
        }

        long pad = padTokenId ?? (eosTokenIds.Count > 0 ? eosTokenIds[0] : 0);
        using var noGrad = no_grad();
        using var outer = NewDisposeScope();
        Device device = lm_head.Weight.device;
        long batch = inputIds.shape[0];
        Tensor tokens = inputIds.to(device); // (B, S)
        Tensor mask = (attentionMask ?? ones_like(inputIds)).to(device).to(ScalarType.Int64); // (B, S)
        Tensor? eos = eosTokenIds.Count > 0 ? tensor(eosTokenIds.ToArray(), device: device) : null;
        Tensor unfinished = ones(batch, ScalarType.Bool, device); // (B)
        // Positions count real tokens only, so a left-padded row starts at 0 as an unpadded one would.
        Tensor positions = mask.cumsum(-1).sub(1).clamp_min(0); // (B, T0)
        Tensor step = tokens;
        using var cache = new LlamaKvCache(Config.NumHiddenLayers);
        for (int i = 0; i < maxNewTokens; i++)
        {
            Tensor next = NextTokens(step, mask, positions, cache); // (B)
            if (eos is not null)
            {
                next = where(unfinished, next, full_like(next, pad));
                unfinished = unfinished.logical_and(isin(next, eos).logical_not());
            }

            step = next.unsqueeze(1); // (B, 1)
            tokens = cat([tokens, step], 1);
            mask = cat([mask, ones(batch, 1, ScalarType.Int64, device)], 1);
            positions = mask.sum(-1, keepdim: true).sub(1).clamp_min(0); // (B, 1)
            if (eos is not null && !unfinished.any().item<bool>())
            {
                break;
            }
        }

        return tokens.MoveToOuterDisposeScope();
    }

    /// <summary>Runs <paramref name="step"/> (B, T) through the decoder, extending the cache; the argmax token of the last position (B).</summary>
    private Tensor NextTokens(Tensor step, Tensor mask, Tensor positions, LlamaKvCache cache)
    {
        using var scope = NewDisposeScope();
        long t = step.shape[1];
        Tensor current = mask.narrow(1, mask.shape[1] - t, t); // (B, T): this step's tokens
        Tensor hidden;
        using (TokenMask.Use(current))
        {
            hidden = model.Forward(step, mask, positions, cache).narrow(1, t - 1, 1); // (B, 1, C)
        }

        Tensor logits;
        using (TokenMask.Use(current.narrow(1, t - 1, 1)))
        {
            logits = lm_head.call(hidden).squeeze(1).to(ScalarType.Float32); // (B, V)
        }

        return logits.argmax(-1).MoveToOuterDisposeScope();
    }
}
