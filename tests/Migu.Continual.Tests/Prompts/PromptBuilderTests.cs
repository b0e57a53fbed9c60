using Migu.Continual.Data;
using Migu.Continual.Prompts;

namespace Migu.Continual.Tests.Prompts;

public sealed class PromptBuilderTests
{
    private static readonly TaskData AgNews = new()
    {
        Name = "agnews",
        Type = "TC",
        Labels = ["World", "Sports", "Business", "Science or Technology"],
        Train = [],
        Test = [],
    };

    private static readonly Example Headline = new("Title: Red Sox win\nText: Boston beat New York 5-3.\n", "Sports");

    [Fact]
    public void A_classification_prompt_has_the_reference_layout_byte_for_byte()
    {
        PromptedExample prompted = new PromptBuilder().Build(AgNews, Headline);

        Assert.Equal(
            "Task:TC\nDataset:agnews\nWhich topic is the text below about? Reply with one of the options.\n"
            + "Option: World, Sports, Business, Science or Technology \n"
            + "Title: Red Sox win\nText: Boston beat New York 5-3.\n\nAnswer:",
            prompted.Prompt);
        Assert.Equal("Sports", prompted.Target);
    }

    [Fact]
    public void A_user_instruction_for_the_dataset_beats_one_for_the_type()
    {
        var byType = new PromptBuilder(InstructionSet.Parse("""{"tc": "Topic?\n"}""", "i.json"));
        var byName = new PromptBuilder(InstructionSet.Parse("""{"TC": "Topic?\n", "AGNEWS": "News topic?"}""", "i.json"));

        Assert.Equal("Task:TC\nDataset:agnews\nTopic?\nOption: World, Sports, Business, Science or Technology \nx\nAnswer:", byType.Prompt(AgNews, "x"));
        Assert.Equal("Task:TC\nDataset:agnews\nNews topic?\nOption: World, Sports, Business, Science or Technology \nx\nAnswer:", byName.Prompt(AgNews, "x"));
    }

    [Fact]
    public void An_empty_user_instruction_leaves_only_the_options()
    {
        var builder = new PromptBuilder(InstructionSet.Parse("""{"TC": ""}""", "i.json"));

        Assert.Equal("Task:TC\nDataset:agnews\nOption: World, Sports, Business, Science or Technology \nx\nAnswer:", builder.Prompt(AgNews, "x"));
    }

    [Fact]
    public void Copa_style_tasks_drop_the_instruction_and_the_options()
    {
        TaskData copa = AgNews with { Name = "COPA", Type = "COPA", Labels = ["A", "B"] };
        TaskData renamed = AgNews with { Name = "copa", Type = "MC", Labels = ["A", "B"] };
        const string sentence = "The man broke his toe. What was the CAUSE of this?\nA: He dropped a hammer on his foot.\nB: He got a hole in his sock.";

        PromptedExample prompted = new PromptBuilder().Build(copa, new Example(sentence, "A"));

        Assert.Equal($"Task:COPA\nDataset:COPA\n{sentence}\nAnswer:", prompted.Prompt);
        Assert.Equal("A", prompted.Target);
        Assert.Equal($"Task:MC\nDataset:copa\n{sentence}\nAnswer:", new PromptBuilder().Prompt(renamed, sentence));
        Assert.True(PromptBuilder.IsMultipleChoice("x", "copa"));
        Assert.False(PromptBuilder.IsMultipleChoice("agnews", "TC"));
    }

    [Fact]
    public void An_unknown_type_gets_the_generic_instruction()
    {
        TaskData odd = AgNews with { Type = "Legal", Name = "contracts", Labels = ["valid", "void"] };

        Assert.Equal(
            "Task:Legal\nDataset:contracts\nRead the text below and reply with one of the options.\nOption: valid, void \nx\nAnswer:",
            new PromptBuilder().Prompt(odd, "x"));
    }

    [Theory]
    [InlineData("TC", "topic")]
    [InlineData("SC", "sentiment")]
    [InlineData("NLI", "second sentence")]
    [InlineData("QQP", "two questions")]
    [InlineData("BoolQA", "true or false")]
    [InlineData("WiC", "same meaning")]
    [InlineData("MultiRC", "proposed answer")]
    [InlineData("nli", "second sentence")]
    public void Each_known_type_has_its_own_instruction_ending_in_a_newline(string type, string gist)
    {
        string instruction = InstructionSet.BuiltIn.Resolve("anything", type);

        Assert.Contains(gist, instruction, StringComparison.Ordinal);
        Assert.EndsWith("options.\n", instruction, StringComparison.Ordinal);
    }
}
