using Migu.Continual.Pretraining;
using Migu.Core;
using Migu.Models;
using Migu.Models.Llama;
using Migu.Models.Roberta;
using Migu.Models.T5;
using Migu.Models.Tokenizers;
using static TorchSharp.torch;

namespace Migu.Continual.Tests.Pretraining;

public sealed class PackingTests
{
    [Fact]
    public void Documents_are_concatenated_and_cut_into_full_sequences_with_the_last_piece_kept()
    {
        int[][] documents = [[1, 2, 3], [4, 5], [6, 7, 8, 9, 10, 11, 12], [13, 14]];
        var blocks = SequencePacker.Pack(documents, 4);
        Assert.Equal([[1, 2, 3, 4], [5, 6, 7, 8], [9, 10, 11, 12], [13, 14]], blocks);
    }

    [Fact]
    public void A_last_piece_of_one_token_is_dropped_and_a_length_below_two_refused()
    {
        Assert.Equal([[1, 2, 3]], SequencePacker.Pack([[1, 2, 3, 4]], 3));
        Assert.Throws<MiguUserException>(() => SequencePacker.Pack([[1]], 1));
    }

    [Fact]
    public void Each_family_frames_documents_as_it_reads_text()
    {
        var tokenizer = EmbeddedTokenizer.Compact(); // <pad> 0, </s> 1, <s> 2
        int[] hello = [.. tokenizer.Encode("hello world", addSpecialTokens: false)];
        Assert.Equal([2, .. hello, 1], RobertaFamily.Instance.Framing(tokenizer).Encode(tokenizer, "hello world"));
        Assert.Equal([2, .. hello, 1], LlamaFamily.Instance.Framing(tokenizer).Encode(tokenizer, "hello world"));
        Assert.Equal([.. hello, 1], T5Family.Instance.Framing(tokenizer).Encode(tokenizer, "hello world"));
    }

    [Fact]
    public void Causal_labels_are_the_ids_with_padding_ignored()
    {
        var causal = new CausalLanguageModeling(HandTokens.Of());
        var batch = causal.Collate([[5, 6, 7], [8]], [0UL, 0UL], CPU);
        Assert.Equal([5L, 6, 7, 8, 0, 0], batch.InputIds.data<long>().ToArray());
        Assert.Equal([5L, 6, 7, 8, -100, -100], batch.Labels!.data<long>().ToArray());
        Assert.Equal([1L, 1, 1, 1, 0, 0], batch.AttentionMask!.data<long>().ToArray());
    }

    [Fact]
    public void An_items_noise_depends_on_seed_domain_epoch_and_index_only()
    {
        var draw = new Migu.Continual.Training.BatchDraw(42, 1, 0);
        Assert.Equal(PackedTextData.RowSeed(draw, 3), PackedTextData.RowSeed(draw, 3));
        Assert.NotEqual(PackedTextData.RowSeed(draw, 3), PackedTextData.RowSeed(draw with { Epoch = 1 }, 3));
        Assert.NotEqual(PackedTextData.RowSeed(draw, 3), PackedTextData.RowSeed(draw with { TaskIndex = 2 }, 3));
        Assert.NotEqual(PackedTextData.RowSeed(draw, 3), PackedTextData.RowSeed(draw, 4));

        // The same item gets the same mask whichever batch it is collated in.
        var data = new PackedTextData([[.. Enumerable.Range(100, 30)], [.. Enumerable.Range(200, 30)]], new MaskedLanguageModeling(HandTokens.Of()), draw);
        long[] alone = data.Collate([1], CPU, draw).Labels!.data<long>().ToArray();
        long[] inPair = data.Collate([0, 1], CPU, draw).Labels![1].data<long>().ToArray();
        Assert.Equal(alone, inPair);
    }
}
