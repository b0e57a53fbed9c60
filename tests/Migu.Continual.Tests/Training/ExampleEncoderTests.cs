using Migu.Continual.Data;
using Migu.Continual.Prompts;
using Migu.Continual.Training;
using Migu.Models;
using Migu.Models.Llama;
using Migu.Models.T5;
using Migu.Models.Tokenizers;
using static TorchSharp.torch;

namespace Migu.Continual.Tests.Training;

public sealed class ExampleEncoderTests
{
    private static readonly ByteLevelBpeTokenizer Tokenizer = EmbeddedTokenizer.Compact();

    private static readonly TaskData Task = new()
    {
        Name = "dbpedia",
        Type = "TC",
        Labels = ["Company", "Educational Institution", "Artist", "Athlete", "Office Holder", "Village"],
        Train = [new("x", "Company")],
        Test = [new("x", "Company")],
    };

    [Fact]
    public void Llama_reads_bos_and_prompt_and_carries_loss_only_on_the_answer_and_eos()
    {
        var encoder = new ExampleEncoder(Tokenizer, LlamaFamily.Instance, 128, 8);
        PromptedExample example = new PromptBuilder().Build(Task, new Example("A small firm.", "Company"));
        EncodedExample e = encoder.Encode(example);

        Assert.Equal(2, e.Source[0]); // BOS
        Assert.Equal(Tokenizer.Encode(example.Prompt, addSpecialTokens: false), e.Source[1..]);
        Assert.Equal([.. Tokenizer.Encode(" Company", addSpecialTokens: false), 1], e.Target);

        ModelBatch batch = encoder.Collate([e, encoder.Encode(example with { Target = "Educational Institution" })], CPU);
        long[] labels = batch.Labels!.data<long>().ToArray();
        long width = batch.InputIds.shape[1];
        long[] first = labels[..(int)width];
        Assert.All(first[..e.Source.Length], l => Assert.Equal(-100, l));
        Assert.Equal(e.Target.Select(t => (long)t), first[e.Source.Length..e.Tokens]);
        Assert.All(first[e.Tokens..], l => Assert.Equal(-100, l)); // padding
        Assert.Equal(e.Tokens, batch.AttentionMask!.data<long>().Take((int)width).Sum());
    }

    [Fact]
    public void T5_reads_prompt_and_eos_and_its_labels_are_the_answer_and_eos_padded_with_minus_100()
    {
        var encoder = new ExampleEncoder(Tokenizer, T5Family.Instance, 128, 16);
        PromptedExample example = new PromptBuilder().Build(Task, new Example("A school.", "Educational Institution"));
        EncodedExample e = encoder.Encode(example);
        Assert.Equal(1, e.Source[^1]); // EOS
        Assert.Equal([.. Tokenizer.Encode("Educational Institution", addSpecialTokens: false), 1], e.Target);

        ModelBatch batch = encoder.Collate([e, encoder.Encode(example with { Target = "Artist" })], CPU);
        Assert.NotNull(batch.DecoderAttentionMask);
        long[] second = batch.Labels![1].data<long>().ToArray();
        Assert.Contains(-100L, second);
    }

    [Fact]
    public void A_long_prompt_loses_the_end_of_its_sentence_not_its_head_or_answer_line()
    {
        var encoder = new ExampleEncoder(Tokenizer, LlamaFamily.Instance, 128, 8);
        string sentence = string.Join(' ', Enumerable.Range(0, 200).Select(i => $"word{i}"));
        PromptedExample example = new PromptBuilder().Build(Task, new Example(sentence, "Village"));
        int[] ids = encoder.EncodePrompt(example.Prompt);

        Assert.Equal(128 - 1, ids.Length - 1); // BOS + exactly the budget
        Assert.True(Tokenizer.Encode(example.Prompt, addSpecialTokens: false).Count > 300);
        string text = Tokenizer.Decode(ids[1..], skipSpecialTokens: false);
        var (head, body, tail) = PromptLayout.Split(example.Prompt)!.Value;
        Assert.StartsWith(head, text, StringComparison.Ordinal); // task, instruction and every option kept
        Assert.EndsWith(tail, text, StringComparison.Ordinal);
        Assert.Contains("word0 word1 word2", text, StringComparison.Ordinal); // the sentence's start is seen
        Assert.DoesNotContain("word199", text, StringComparison.Ordinal);
        Assert.StartsWith(body[..20], text[head.Length..], StringComparison.Ordinal);

        // A head longer than the whole budget gives way, but a quarter of the budget stays for the sentence.
        var tight = new ExampleEncoder(Tokenizer, LlamaFamily.Instance, 64, 8);
        string squeezed = Tokenizer.Decode(tight.EncodePrompt(example.Prompt)[1..], skipSpecialTokens: false);
        Assert.Contains("word0 word1", squeezed, StringComparison.Ordinal);
        Assert.EndsWith(tail, squeezed, StringComparison.Ordinal);
    }

    [Fact]
    public void The_layout_splits_head_sentence_and_tail_for_both_prompt_forms()
    {
        var builder = new PromptBuilder();
        string prompt = builder.Prompt(Task, "Some text.\nWith a second line.");
        var (head, body, tail) = PromptLayout.Split(prompt)!.Value;
        Assert.EndsWith("Village \n", head, StringComparison.Ordinal);
        Assert.Equal("Some text.\nWith a second line.", body);
        Assert.Equal("\nAnswer:", tail);

        var copa = Task with { Name = "COPA", Type = "COPA" };
        var parts = PromptLayout.Split(builder.Prompt(copa, "Premise. Choice 1 or 2?"))!.Value;
        Assert.Equal("Task:COPA\nDataset:COPA\n", parts.Head);
        Assert.Equal("Premise. Choice 1 or 2?", parts.Body);
        Assert.Null(PromptLayout.Split("free text\nAnswer:"));
    }
}
