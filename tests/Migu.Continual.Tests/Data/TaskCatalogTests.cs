using Migu.Continual.Data;
using Migu.Core;

namespace Migu.Continual.Tests.Data;

public sealed class TaskCatalogTests : IDisposable
{
    private static readonly string[] TopicLabels = ["World", "Sports", "Business", "Sci/Tech"];

    private readonly TempDataRoot data = new();

    public void Dispose() => data.Dispose();

    [Fact]
    public void Datasets_are_found_under_their_type_folder_and_matched_ignoring_case()
    {
        data.AddTask("TC", "agnews", TopicLabels, TempDataRoot.Examples(("World", 2)), TempDataRoot.Examples(("Sports", 1)));
        data.AddTask("SC", "SST-2", ["Good", "Bad"], TempDataRoot.Examples(("Good", 1)), TempDataRoot.Examples(("Bad", 1)));
        data.Write("notes/README.txt", "not a dataset");
        data.Write(".cache/x/train.json", "[]");

        var catalog = TaskCatalog.Open(data.Root);

        Assert.Equal(["SST-2 (SC)", "agnews (TC)"], catalog.Tasks.Select(t => $"{t.Name} ({t.Type})"));
        TaskEntry entry = catalog.Find("AGNEWS");
        Assert.Equal(new TaskEntry("agnews", "TC", Path.Combine(data.Root, "TC", "agnews")), entry);
        Assert.True(catalog.Contains("sst-2"));
        Assert.False(catalog.Contains("yahoo"));
        Assert.Null(catalog.DefaultOrder);
    }

    [Fact]
    public void A_task_loads_with_labels_in_file_order_and_every_split()
    {
        data.AddTask(
            "TC", "agnews", TopicLabels,
            train: [new("a", "Sports"), new("b", "World")],
            test: [new("c", "Business")],
            dev: [new("d", "Sci/Tech")]);

        TaskData task = TaskCatalog.Open(data.Root).Load("AgNews");

        Assert.Equal("agnews", task.Name);
        Assert.Equal("TC", task.Type);
        Assert.Equal(TopicLabels, task.Labels);
        Assert.Equal([new Example("a", "Sports"), new Example("b", "World")], task.Train);
        Assert.Equal([new Example("c", "Business")], task.Test);
        Assert.Equal([new Example("d", "Sci/Tech")], task.Dev);
        Assert.Same(task.Test, task.Split("TEST"));
        Assert.Same(task.Dev, task.Split("dev"));
    }

    [Fact]
    public void Json_lines_files_load_and_blank_lines_are_skipped()
    {
        data.Write("NLI/CB/labels.json", """["entailment", "contradiction", "neutral"]""");
        data.Write("NLI/CB/train.jsonl", "{\"sentence\": \"p1 h1\", \"label\": \"neutral\", \"id\": 4}\n\n{\"label\": \"entailment\", \"sentence\": \"p2 h2\"}\r\n");
        data.Write("NLI/CB/test.jsonl", "{\"sentence\": \"p3\", \"label\": \"contradiction\"}");

        TaskData task = TaskCatalog.Open(data.Root).Load("cb");

        Assert.Equal([new Example("p1 h1", "neutral"), new Example("p2 h2", "entailment")], task.Train);
        Assert.Equal([new Example("p3", "contradiction")], task.Test);
        Assert.Empty(task.Dev);
    }

    [Fact]
    public void A_byte_order_mark_is_accepted()
    {
        data.AddTask("TC", "agnews", TopicLabels, TempDataRoot.Examples(("World", 1)), TempDataRoot.Examples(("World", 1)));
        data.Write("TC/agnews/labels.json", "\uFEFF[\"World\", \"Sports\"]");

        Assert.Equal(["World", "Sports"], TaskCatalog.Open(data.Root).Load("agnews").Labels);
    }

    [Fact]
    public void An_unknown_task_lists_what_is_available()
    {
        data.AddTask("TC", "agnews", TopicLabels, TempDataRoot.Examples(("World", 1)), TempDataRoot.Examples(("World", 1)));
        data.AddTask("SC", "yelp", ["good"], TempDataRoot.Examples(("good", 1)), TempDataRoot.Examples(("good", 1)));

        var e = Assert.Throws<MiguUserException>(() => TaskCatalog.Open(data.Root).Find("yahoo"));

        Assert.Equal($"{data.Root}: no task 'yahoo'; available: agnews (TC), yelp (SC)", e.Message);
    }

    [Fact]
    public void A_name_under_two_types_is_refused_when_asked_for()
    {
        data.AddTask("TC", "yelp", ["good"], TempDataRoot.Examples(("good", 1)), TempDataRoot.Examples(("good", 1)));
        data.AddTask("SC", "Yelp", ["good"], TempDataRoot.Examples(("good", 1)), TempDataRoot.Examples(("good", 1)));
        var catalog = TaskCatalog.Open(data.Root);

        var e = Assert.Throws<MiguUserException>(() => catalog.Load("yelp"));

        Assert.Equal($"{data.Root}: task 'yelp' is in more than one type folder (SC/Yelp, TC/yelp); rename or remove all but one", e.Message);
    }

    [Fact]
    public void A_missing_root_or_an_empty_one_is_refused()
    {
        string missing = Path.Combine(data.Root, "nope");
        Assert.Equal($"{missing}: no such data directory", Assert.Throws<MiguUserException>(() => TaskCatalog.Open(missing)).Message);

        Assert.Equal(
            $"{data.Root}: no datasets found (expected <Type>/<dataset>/train.json and friends below it)",
            Assert.Throws<MiguUserException>(() => TaskCatalog.Open(data.Root)).Message);
    }

    [Theory]
    [InlineData("train.json", "train.json: no such file (nor train.jsonl, train.csv, train.parquet)")]
    [InlineData("test.json", "test.json: no such file (nor test.jsonl, test.csv, test.parquet)")]
    public void A_missing_required_file_is_named(string file, string message)
    {
        string dir = data.AddTask("TC", "agnews", TopicLabels, TempDataRoot.Examples(("World", 1)), TempDataRoot.Examples(("World", 1)));
        data.Delete($"TC/agnews/{file}");

        var e = Assert.Throws<MiguUserException>(() => TaskCatalog.Open(data.Root).Load("agnews"));

        Assert.Equal(Path.Combine(dir, message), e.Message);
    }

    [Fact]
    public void Both_json_and_jsonl_for_one_split_are_refused()
    {
        string dir = data.AddTask("TC", "agnews", TopicLabels, TempDataRoot.Examples(("World", 1)), TempDataRoot.Examples(("World", 1)));
        data.Write("TC/agnews/train.jsonl", "{\"sentence\": \"x\", \"label\": \"World\"}");

        var e = Assert.Throws<MiguUserException>(() => TaskCatalog.Open(data.Root).Load("agnews"));

        Assert.Equal($"{dir}: both train.json and train.jsonl; keep one", e.Message);
    }

    [Fact]
    public void Malformed_json_names_the_line_and_byte()
    {
        string dir = data.AddTask("TC", "agnews", TopicLabels, TempDataRoot.Examples(("World", 1)), TempDataRoot.Examples(("World", 1)));
        data.Write("TC/agnews/train.json", "[\n  {\"sentence\": \"a\", \"label\": \"World\"},\n  {\"sentence\": \"b\" \"label\": \"World\"}\n]");

        var e = Assert.Throws<MiguUserException>(() => TaskCatalog.Open(data.Root).Load("agnews"));

        // The third line's second string starts at its 20th byte.
        // (The rest is System.Text.Json's own wording, without its position suffix.)
        Assert.StartsWith($"{Path.Combine(dir, "train.json")}: malformed JSON at line 3, byte 20: ", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("LineNumber", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', e.Message);
    }

    [Fact]
    public void Malformed_json_lines_name_the_line()
    {
        string dir = data.AddTask("TC", "agnews", TopicLabels, TempDataRoot.Examples(("World", 1)), TempDataRoot.Examples(("World", 1)));
        data.Delete("TC/agnews/test.json");
        data.Write("TC/agnews/test.jsonl", "{\"sentence\": \"a\", \"label\": \"World\"}\n\n{\"sentence\": \"b\", \"label\": World}\n");

        var e = Assert.Throws<MiguUserException>(() => TaskCatalog.Open(data.Root).Load("agnews"));

        // The bare word starts at the 28th byte of the file's third line.
        Assert.StartsWith($"{Path.Combine(dir, "test.jsonl")}: malformed JSON at line 3, byte 28: ", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Text_that_is_not_utf8_is_a_user_error()
    {
        string dir = data.AddTask("TC", "agnews", TopicLabels, TempDataRoot.Examples(("World", 1)), TempDataRoot.Examples(("World", 1)));
        File.WriteAllBytes(Path.Combine(dir, "train.json"), [.. "[{\"sentence\": \"caf"u8, 0xE9, .. "\", \"label\": \"World\"}]"u8]);

        var e = Assert.Throws<MiguUserException>(() => TaskCatalog.Open(data.Root).Load("agnews"));

        Assert.Equal($"{Path.Combine(dir, "train.json")}: item 0: \"sentence\" is not valid UTF-8 text", e.Message);
    }

    [Theory]
    [InlineData("""[{"sentence": "a", "label": "World"}, {"label": "World"}]""", "item 1: no \"sentence\" (nor \"text\")")]
    [InlineData("""[{"sentence": "a"}]""", "item 0: no \"label\"")]
    [InlineData("""[{"sentence": 3, "label": "World"}]""", "item 0: \"sentence\" is a number, not a string")]
    [InlineData("""[{"sentence": "a", "label": null}]""", "item 0: \"label\" is null, not a string or a class id")]
    [InlineData("""[{"sentence": "a", "label": ["World"]}]""", "item 0: \"label\" is an array, not a string or a class id")]
    [InlineData("""[{"sentence": "a", "label": 1.5}]""", "item 0: \"label\" is a number that is not a whole class id")]
    [InlineData("""[{"sentence": "a", "label": 4}]""", "item 0: class id 4 is out of range; labels.json names 4 classes (ids 0–3)")]
    [InlineData("""[{"sentence": "a", "label": "World"}, "b"]""", "item 1: expected an object with \"sentence\" and \"label\", found a string")]
    [InlineData("""{"sentence": "a", "label": "World"}""", "expected a JSON array of {\"sentence\", \"label\"} objects, found an object")]
    [InlineData("[]", "no examples")]
    public void A_bad_example_file_names_the_item_and_the_problem(string train, string problem)
    {
        string dir = data.AddTask("TC", "agnews", TopicLabels, TempDataRoot.Examples(("World", 1)), TempDataRoot.Examples(("World", 1)));
        data.Write("TC/agnews/train.json", train);

        var e = Assert.Throws<MiguUserException>(() => TaskCatalog.Open(data.Root).Load("agnews"));

        Assert.Equal($"{Path.Combine(dir, "train.json")}: {problem}", e.Message);
    }

    [Fact]
    public void A_label_outside_labels_json_is_named_with_the_labels()
    {
        string dir = data.AddTask("TC", "agnews", TopicLabels, TempDataRoot.Examples(("World", 1)), TempDataRoot.Examples(("World", 1)));
        var train = Enumerable.Range(0, 17).Select(i => new Example($"s{i}", "Sports")).Append(new Example("s17", "Sprots"));
        data.Write("TC/agnews/train.json", TempDataRoot.Serialize(train));

        var e = Assert.Throws<MiguUserException>(() => TaskCatalog.Open(data.Root).Load("agnews"));

        Assert.Equal($"{Path.Combine(dir, "train.json")}: item 17: label 'Sprots' is not in labels.json (World, Sports, Business, Sci/Tech)", e.Message);
    }

    [Fact]
    public void A_label_outside_labels_json_in_json_lines_names_the_line()
    {
        string dir = data.AddTask("TC", "agnews", TopicLabels, TempDataRoot.Examples(("World", 1)), TempDataRoot.Examples(("World", 1)));
        data.Delete("TC/agnews/train.json");
        data.Write("TC/agnews/train.jsonl", "{\"sentence\": \"a\", \"label\": \"World\"}\n{\"sentence\": \"b\", \"label\": \"world\"}\n");

        var e = Assert.Throws<MiguUserException>(() => TaskCatalog.Open(data.Root).Load("agnews"));

        Assert.Equal($"{Path.Combine(dir, "train.jsonl")}: line 2: label 'world' is not in labels.json (World, Sports, Business, Sci/Tech)", e.Message);
    }

    [Theory]
    [InlineData("""["World", "Sports", "World"]""", "label 'World' appears twice (items 0 and 2)")]
    [InlineData("""["Good", "Bad", "good."]""", "labels 'Good' (item 0) and 'good.' (item 2) are the same answer once lower-cased and stripped of punctuation")]
    [InlineData("""["World", "?!"]""", "item 1: label '?!' is empty once lower-cased and stripped of punctuation, so no answer could match it")]
    [InlineData("""["World", 2]""", "item 1 is a number, not a label string")]
    [InlineData("""{"labels": ["World"]}""", "expected a JSON array of label strings, found an object")]
    [InlineData("[]", "no labels")]
    public void A_bad_labels_file_is_named_with_the_problem(string labels, string problem)
    {
        string dir = data.AddTask("TC", "agnews", TopicLabels, TempDataRoot.Examples(("World", 1)), TempDataRoot.Examples(("World", 1)));
        data.Write("TC/agnews/labels.json", labels);

        var e = Assert.Throws<MiguUserException>(() => TaskCatalog.Open(data.Root).Load("agnews"));

        Assert.Equal($"{Path.Combine(dir, "labels.json")}: {problem}", e.Message);
    }

    [Fact]
    public void Asking_for_a_dev_split_that_is_not_there_says_how_to_get_one()
    {
        string dir = data.AddTask("TC", "agnews", TopicLabels, TempDataRoot.Examples(("World", 1)), TempDataRoot.Examples(("World", 1)));
        TaskData task = TaskCatalog.Open(data.Root).Load("agnews");

        Assert.Equal(
            $"{dir}: task 'agnews' has no dev split; add dev.json or set data_options.dev_fraction",
            Assert.Throws<MiguUserException>(() => task.Split("dev")).Message);
        Assert.Equal(
            "eval.split: 'valid' is not one of train, dev, test",
            Assert.Throws<MiguUserException>(() => task.Split("valid")).Message);
    }
}
