using Migu.Models;
using Migu.Models.Llama;
using Migu.Models.T5;
using static TorchSharp.torch;

namespace Migu.Continual.Bench;

/// <summary>
/// Batches of random token ids in [2, 32000) from a seeded generator, as the reference
/// draws them: T5 gets (B, src) inputs and (B, tgt) labels; a decoder gets (B, seq) ids that are
/// also its labels. No attention mask: every token is real, so none needs masking.
/// </summary>
internal sealed class RandomBatches(LanguageModel model, BenchCase c, Device device) : IDisposable
{
    private readonly Generator generator = new(1); // TorchSharp's generators are CPU generators: draw there, then copy
    private readonly long vocab = Math.Min(32000, model switch
    {
        T5ForConditionalGeneration t => t.Config.VocabSize,
        LlamaForCausalLM l => l.Config.VocabSize,
        _ => 32000,
    });

    public long TokensPerStep => model.Family == ModelFamily.T5
        ? (long)c.Batch * (c.SourceLength + c.TargetLength)
        : (long)c.Batch * c.SequenceLength;

    public ModelBatch Next()
    {
        if (model.Family == ModelFamily.T5)
        {
            return new ModelBatch
            {
                InputIds = randint(2, vocab, [c.Batch, c.SourceLength], generator: generator, dtype: ScalarType.Int64).to(device),
                Labels = randint(2, vocab, [c.Batch, c.TargetLength], generator: generator, dtype: ScalarType.Int64).to(device),
            };
        }

        Tensor ids = randint(2, vocab, [c.Batch, c.SequenceLength], generator: generator, dtype: ScalarType.Int64).to(device);
        return new ModelBatch { InputIds = ids, Labels = ids };
    }

    public void Dispose() => generator.Dispose();
}
