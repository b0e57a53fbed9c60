using Migu.Models.Tokenizers;
using static TorchSharp.torch;

namespace Migu.Models.Tests.Tokenizers;

public class TokenBatchTests
{
    private static readonly IReadOnlyList<int>[] Sequences = [[5, 6, 7], [8], []];

    [Fact]
    public void Right_padding_puts_tokens_first_and_masks_the_rest()
    {
        using TokenBatch batch = TokenBatch.Create(Sequences, padId: 0);
        Assert.Equal(new long[] { 3, 3 }, batch.InputIds.shape);
        Assert.Equal(ScalarType.Int64, batch.InputIds.dtype);
        Assert.Equal(ScalarType.Int64, batch.AttentionMask.dtype);
        Assert.Equal(new long[] { 5, 6, 7, 8, 0, 0, 0, 0, 0 }, batch.InputIds.data<long>().ToArray());
        Assert.Equal(new long[] { 1, 1, 1, 1, 0, 0, 0, 0, 0 }, batch.AttentionMask.data<long>().ToArray());
    }

    [Fact]
    public void Left_padding_puts_tokens_last()
    {
        using TokenBatch batch = TokenBatch.Create(Sequences, padId: 9, PaddingSide.Left);
        Assert.Equal(new long[] { 5, 6, 7, 9, 9, 8, 9, 9, 9 }, batch.InputIds.data<long>().ToArray());
        Assert.Equal(new long[] { 1, 1, 1, 0, 0, 1, 0, 0, 0 }, batch.AttentionMask.data<long>().ToArray());
    }

    [Fact]
    public void Max_length_truncates_keeping_the_first_tokens()
    {
        using TokenBatch batch = TokenBatch.Create(Sequences, padId: 0, PaddingSide.Left, maxLength: 2);
        Assert.Equal(new long[] { 3, 2 }, batch.InputIds.shape);
        Assert.Equal(new long[] { 5, 6, 0, 8, 0, 0 }, batch.InputIds.data<long>().ToArray());
        Assert.Equal(new long[] { 1, 1, 0, 1, 0, 0 }, batch.AttentionMask.data<long>().ToArray());
    }

    [Fact]
    public void Encode_pads_with_the_tokenizers_pad_id()
    {
        using TokenBatch batch = TokenBatch.Encode(EmbeddedTokenizer.Gpt2(), ["Hello world", "hello"]);
        Assert.Equal(new long[] { 15496, 995, 31373, 50256 }, batch.InputIds.data<long>().ToArray());
        Assert.Equal(new long[] { 1, 1, 1, 0 }, batch.AttentionMask.data<long>().ToArray());
    }

    [Fact]
    public void Rejects_an_empty_batch_and_a_non_positive_max_length()
    {
        Assert.Throws<Migu.Core.MiguUserException>(() => TokenBatch.Create([], 0));
        Assert.Throws<Migu.Core.MiguUserException>(() => TokenBatch.Create(Sequences, 0, maxLength: 0));
    }
}
