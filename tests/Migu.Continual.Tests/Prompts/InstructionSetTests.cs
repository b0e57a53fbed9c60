using Migu.Continual.Prompts;
using Migu.Continual.Recipes;
using Migu.Core;

namespace Migu.Continual.Tests.Prompts;

public sealed class InstructionSetTests
{
    [Fact]
    public void Keys_match_ignoring_case_and_a_newline_is_added_where_missing()
    {
        var set = InstructionSet.Parse("""{"SC": "Mood?", "yelp": "Stars?\n"}""", "i.json");

        Assert.Equal("Mood?\n", set.Resolve("amazon", "sc"));
        Assert.Equal("Stars?\n", set.Resolve("YELP", "SC"));
        Assert.Equal(InstructionSet.BuiltIn.Resolve("agnews", "TC"), set.Resolve("agnews", "TC"));
        Assert.Equal(2, set.Overrides.Count);
    }

    [Fact]
    public void The_o_lora_list_form_gives_its_first_zero_shot_instruction()
    {
        var set = InstructionSet.Parse(
            """
            {"TC": [{"instruction_type": "few-shot", "instruction": "Examples first.\n"},
                    {"instruction_type": "zero-shot", "instruction": "Pick the topic.\n"}]}
            """,
            "instruction_config.json");

        Assert.Equal("Pick the topic.\n", set.Resolve("agnews", "TC"));
    }

    [Fact]
    public void No_instruction_file_means_the_built_in_set()
    {
        Assert.Same(InstructionSet.BuiltIn, InstructionSet.For(new DataSettings()));
    }

    [Fact]
    public void A_file_named_in_the_settings_is_read()
    {
        string path = Path.Combine(Path.GetTempPath(), $"migu-instructions-{Guid.NewGuid():N}.json");
        File.WriteAllText(path, """{"TC": "From a file."}""");
        try
        {
            Assert.Equal("From a file.\n", InstructionSet.For(new DataSettings { Instructions = path }).Resolve("agnews", "TC"));
        }
        finally
        {
            File.Delete(path);
        }
    }

    [Theory]
    [InlineData("""["TC"]""", "i.json: expected a JSON object from task type or dataset name to instruction")]
    [InlineData("""{"TC": 3}""", "i.json: key 'TC': expected an instruction string (or a list holding a zero-shot {\"instruction\": …} entry)")]
    [InlineData("""{"TC": [{"instruction_type": "few-shot", "instruction": "x"}]}""", "i.json: key 'TC': expected an instruction string (or a list holding a zero-shot {\"instruction\": …} entry)")]
    [InlineData("""{"TC": "a", "tc": "b"}""", "i.json: keys 'TC' and 'tc' name the same task (keys ignore case)")]
    public void A_bad_instruction_file_is_named_with_the_problem(string json, string message)
    {
        Assert.Equal(message, Assert.Throws<MiguUserException>(() => InstructionSet.Parse(json, "i.json")).Message);
    }

    [Fact]
    public void Malformed_instruction_json_names_the_line()
    {
        var e = Assert.Throws<MiguUserException>(() => InstructionSet.Parse("{\n  \"TC\": \"a\",\n  \"SC\" \"b\"\n}", "i.json"));

        Assert.StartsWith("i.json: malformed JSON at line 3, byte ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_missing_instruction_file_is_named()
    {
        Assert.Equal(
            "/nonexistent/instructions.json: no such instruction file",
            Assert.Throws<MiguUserException>(() => InstructionSet.Load("/nonexistent/instructions.json")).Message);
    }
}
