using Migu.Core;
using static TorchSharp.torch;

namespace Migu.Models.T5;

/// <summary>Greedy decoding, as transformers' generate(do_sample=False, num_beams=1).</summary>
public sealed partial class T5ForConditionalGeneration
{
    /// <summary>
    /// Greedy decoding of up to <paramref name="maxNewTokens"/> tokens for each of the B inputs, with
    /// cached self-attention keys/values and cross-attention keys/values computed once. Returns
    /// (B, 1 + steps) int64 starting with the decoder start token; a row that emitted EOS is padded
    /// after it, and decoding stops when every row has.
    /// </summary>
    public override Tensor Generate(Tensor inputIds, Tensor? attentionMask, int maxNewTokens)
    {
        ArgumentNullException.ThrowIfNull(inputIds);
        if (maxNewTokens < 0)
        {
            throw new MiguUserException($"maxNewTokens must be ≥ 0, got {maxNewTokens}");
        }

        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Device device = inputIds.device;
        long batch = inputIds.shape[0];
        Tensor encoderHidden = Encode(inputIds, attentionMask); // (B, T_enc, d_model)
        T5LayerCache[] caches = decoder.CreateCaches(encoderHidden, attentionMask);
        try
        {
            Tensor ids = full(batch, 1, Config.DecoderStartTokenId, dtype: ScalarType.Int64, device: device); // (B, 1)
            Tensor unfinished = ones(batch, dtype: ScalarType.Bool, device: device); // (B)
            Tensor current = ids;
            for (int step = 0; step < maxNewTokens; step++)
            {
                using var stepScope = NewDisposeScope();
                Tensor logits;
                using (TokenMask.Use(null))
                {
                    Tensor hidden = decoder.DecodeStep(shared.call(current), attentionMask, caches); // (B, 1, d_model)
                    logits = Head(hidden); // (B, 1, V)
                }

                Tensor next = logits[.., -1, ..].argmax(-1); // (B)
                next = where(unfinished, next, full_like(next, Config.PadTokenId));
                Tensor stillGoing = unfinished.logical_and(next.ne(Config.EosTokenId));
                Tensor grown = cat([ids, next.unsqueeze(1)], 1);
                current = next.unsqueeze(1).MoveToOuterDisposeScope();
                ids = grown.MoveToOuterDisposeScope();
                unfinished = stillGoing.MoveToOuterDisposeScope();
                if (!unfinished.any().item<bool>())
                {
                    break;
                }
            }

            return ids.MoveToOuterDisposeScope();
        }
        finally
        {
            foreach (T5LayerCache cache in caches)
            {
                cache.Dispose();
            }
        }
    }
}
