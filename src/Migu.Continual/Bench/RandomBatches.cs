using Migu.Models;
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
    private readonly long vocab = Math.Min(32000, model.VocabSize);

    /// <summary>Whether a batch is a source and a target (T5) rather than one sequence.</summary>
    public bool SourceAndTarget => model.Family.Architecture == ModelArchitecture.EncoderDecoder;

    public long TokensPerStep => SourceAndTarget
        ? (long)c.Batch * (c.SourceLength + c.TargetLength)
        : (long)c.Batch * c.SequenceLength;

    public ModelBatch Next()
    {
        if (SourceAndTarget)
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
