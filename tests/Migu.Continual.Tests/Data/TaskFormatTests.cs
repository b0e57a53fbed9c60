using System.Text;
using System.Text.Json;
using Migu.Continual.Data;
using Migu.Continual.Recipes;
using Migu.Core;
using Parquet;

namespace Migu.Continual.Tests.Data;

/// <summary>
/// Task data in JSON Lines, CSV and Parquet; other field names; labels without labels.json; class
/// ids; tasks named by path. CSV is compared with what Python's csv module reads and Parquet with
/// files arrow-rs wrote (tools/format_fixtures/).
/// </summary>
public sealed class TaskFormatTests : IDisposable
{
    private static readonly string Fixtures = Path.Combine(AppContext.BaseDirectory, "Fixtures", "formats");
    private static readonly string[] Topics = ["World", "Sports", "Business, Finance", "Sci/Tech"];
    private static readonly string[] ClassNames = ["World", "Sports", "Business", "Sci/Tech"];

    private readonly TempDataRoot data = new();

    public void Dispose() => data.Dispose();

    [Fact]
    public void Csv_reads_as_pythons_csv_module_reads_it()
    {
        string dir = Path.Combine(data.Root, "TC", "news");
        Directory.CreateDirectory(dir);
        File.Copy(Path.Combine(Fixtures, "rfc4180.csv"), Path.Combine(dir, "train.csv"));
        File.Copy(Path.Combine(Fixtures, "rfc4180.csv"), Path.Combine(dir, "test.csv"));
        data.Write("TC/news/labels.json", JsonSerializer.Serialize(Topics));

        TaskData task = TaskCatalog.Open(data.Root).Load("news");

        Example[] expected = Expected("rfc4180");
        Assert.Equal(10, expected.Length);
        Assert.Equal(expected, task.Train);
        Assert.Equal(expected, task.Test);
        Assert.Null(task.LabelsNote);
    }

    [Fact]
    public void Parquet_written_by_arrow_rs_loads_and_class_ids_take_the_names_stored_in_the_file()
    {
        string dir = Path.Combine(data.Root, "TC", "news");
        Directory.CreateDirectory(dir);
        File.Copy(Path.Combine(Fixtures, "classlabel.parquet"), Path.Combine(dir, "train.parquet"));
        File.Copy(Path.Combine(Fixtures, "strings.parquet"), Path.Combine(dir, "test.parquet"));

        TaskData task = TaskCatalog.Open(data.Root).Load("news");

        Assert.Equal(ClassNames, task.Labels); // the ClassLabel's id order, not sorted
        Assert.Equal(Expected("classlabel"), task.Train);
        Assert.Equal(Expected("strings"), task.Test);
        Assert.Equal("task news: no labels.json; labels are the class names stored in train.parquet: World, Sports, Business, Sci/Tech", task.LabelsNote);
    }

    [Fact]
    public void One_task_written_in_each_format_loads_the_same_examples()
    {
        Example[] train = [new("first line", "yes"), new("second, with a comma", "no"), new("third \"quoted\"", "yes")];
        Example[] test = [new("fourth", "no")];
        foreach (string name in new[] { "json", "jsonl", "csv", "parquet" })
        {
            data.Write($"T/{name}/labels.json", """["yes", "no"]""");
            WriteSplit($"T/{name}/train.{name}", train);
            WriteSplit($"T/{name}/test.{name}", test);
        }

        var catalog = TaskCatalog.Open(data.Root);

        Assert.Equal(["csv", "json", "jsonl", "parquet"], catalog.Tasks.Select(t => t.Name).Order(StringComparer.Ordinal));
        foreach (TaskEntry entry in catalog.Tasks)
        {
            TaskData task = catalog.Load(entry);
            Assert.Equal(train, task.Train);
            Assert.Equal(test, task.Test);
        }
    }

    [Fact]
    public void Validation_is_the_dev_split_and_two_files_for_one_split_are_refused()
    {
        string dir = data.AddTask("TC", "agnews", Topics, [new("a", "World")], [new("b", "Sports")]);
        data.Write("TC/agnews/validation.jsonl", """{"sentence": "c", "label": "Sci/Tech"}""");

        Assert.Equal([new Example("c", "Sci/Tech")], TaskCatalog.Open(data.Root).Load("agnews").Dev);

        data.Write("TC/agnews/dev.csv", "sentence,label\nd,World\n");
        var e = Assert.Throws<MiguUserException>(() => TaskCatalog.Open(data.Root).Load("agnews"));
        Assert.Equal($"{dir}: both dev.csv and validation.jsonl; keep one", e.Message);
    }

    [Fact]
    public void Other_field_names_come_from_the_data_options_and_text_stands_in_for_a_missing_sentence()
    {
        data.Write("A/jsonl/train.jsonl", """{"text": "a", "label": "x"}""" + "\n" + """{"sentence": "b", "text": "ignored", "label": "y"}""");
        data.Write("A/jsonl/test.jsonl", """{"text": "c", "label": "x"}""");
        data.Write("B/csv/train.csv", "idx,content,topic\n0,a,x\n1,b,y\n");
        data.Write("B/csv/test.csv", "content,idx,topic\nc,2,x\n");
        ParquetFiles.Write<string?>(Path.Combine(data.Root, "B", "parquet", "train.parquet"), "content", ["a", "b"], "topic", ["x", "y"]);
        ParquetFiles.Write<string?>(Path.Combine(data.Root, "B", "parquet", "test.parquet"), "content", ["c"], "topic", ["x"]);
        var renamed = new DataSettings { TextField = "content", LabelField = "topic" };

        Assert.Equal([new Example("a", "x"), new Example("b", "y")], TaskCatalog.Open(data.Root).Load("jsonl").Train);
        Assert.Equal([new Example("a", "x"), new Example("b", "y")], TaskCatalog.Open(data.Root, renamed).Load("csv").Train);
        Assert.Equal([new Example("c", "x")], TaskCatalog.Open(data.Root, renamed).Load("parquet").Test);
        var e = Assert.Throws<MiguUserException>(() => TaskCatalog.Open(data.Root, renamed).Load("jsonl"));
        Assert.Equal($"{Path.Combine(data.Root, "A", "jsonl", "train.jsonl")}: line 1: no \"content\"", e.Message);
        Assert.Equal(
            "data_options: text_field and label_field both name 'label'",
            Assert.Throws<MiguUserException>(() => TaskCatalog.Open(data.Root, new DataSettings { TextField = "label" })).Message);
    }

    [Fact]
    public void Without_labels_json_the_labels_are_the_sorted_distinct_training_labels()
    {
        string dir = Path.Combine(data.Root, "SC", "reviews");
        data.Write("SC/reviews/train.csv", "sentence,label\ngood,positive\nbad,negative\nfine,positive\nmeh,neutral\n");
        data.Write("SC/reviews/test.csv", "sentence,label\nok,neutral\n");

        TaskData task = TaskCatalog.Open(data.Root).Load("reviews");

        Assert.Equal(["negative", "neutral", "positive"], task.Labels);
        Assert.Equal("task reviews: no labels.json; labels are the distinct labels of train.csv, sorted: negative, neutral, positive", task.LabelsNote);

        data.Write("SC/reviews/test.csv", "sentence,label\nok,neutral\nwow,mixed\n");
        var unseen = Assert.Throws<MiguUserException>(() => TaskCatalog.Open(data.Root).Load("reviews"));
        Assert.Equal(
            $"{Path.Combine(dir, "test.csv")}: line 3: label 'mixed' is not among the training labels (negative, neutral, positive); list every label in labels.json",
            unseen.Message);

        data.Write("SC/reviews/train.csv", "sentence,label\ngood,Positive\nbad,positive.\n");
        var same = Assert.Throws<MiguUserException>(() => TaskCatalog.Open(data.Root).Load("reviews"));
        Assert.Equal(
            $"{Path.Combine(dir, "train.csv")}: labels 'Positive' and 'positive.' are the same answer once lower-cased and stripped of punctuation; list the labels in labels.json",
            same.Message);
    }

    [Fact]
    public void Integer_labels_are_class_ids_into_labels_json()
    {
        string dir = Path.Combine(data.Root, "TC", "news");
        data.Write("TC/news/labels.json", JsonSerializer.Serialize(ClassNames));
        data.Write("TC/news/train.jsonl", """{"text": "a", "label": 3}""" + "\n" + """{"text": "b", "label": "World"}""");
        ParquetFiles.Write<long>(Path.Combine(dir, "test.parquet"), "text", ["c", "d"], "label", [0, 2]);

        TaskData task = TaskCatalog.Open(data.Root).Load("news");

        Assert.Equal([new Example("a", "Sci/Tech"), new Example("b", "World")], task.Train);
        Assert.Equal([new Example("c", "World"), new Example("d", "Business")], task.Test);

        ParquetFiles.Write<int>(Path.Combine(dir, "test.parquet"), "text", ["c", "d"], "label", [1, 4]);
        Assert.Equal(
            $"{Path.Combine(dir, "test.parquet")}: row 1: class id 4 is out of range; labels.json names 4 classes (ids 0–3)",
            Assert.Throws<MiguUserException>(() => TaskCatalog.Open(data.Root).Load("news")).Message);

        File.Delete(Path.Combine(dir, "labels.json"));
        Assert.Equal(
            $"{Path.Combine(dir, "train.jsonl")}: line 1: label 3 is a class id, but there is no labels.json to name the classes (list the names there, in id order)",
            Assert.Throws<MiguUserException>(() => TaskCatalog.Open(data.Root).Load("news")).Message);
    }

    [Theory]
    [InlineData("id,label\r\n1,World\r\n", "the header has no column \"sentence\" (nor \"text\") (columns: id, label)")]
    [InlineData("sentence,topic\na,World\n", "the header has no column \"label\" (columns: sentence, topic)")]
    [InlineData("sentence,label,label\na,World,World\n", "the header names column \"label\" more than once")]
    [InlineData("sentence,label\na,World\nb,World,extra\n", "line 3: 3 field(s), but the header has 2")]
    [InlineData("sentence,label\na \"b\",World\n", "line 2: a quote inside an unquoted field; enclose the field in quotes and write the quote twice")]
    [InlineData("sentence,label\n\"a\"b,World\n", "line 2: 'b' after a closing quote; a quoted field ends at a comma or a line end")]
    [InlineData("sentence,label\n\"a,World\nb,World\n", "line 2: a quoted field opens here and never closes")]
    [InlineData("sentence,label\n\"x\ny\",World\n\nz,Nope\n", "line 5: label 'Nope' is not in labels.json (World, Sports, Business, Finance, Sci/Tech)")]
    [InlineData("", "empty; expected a header row naming the columns")]
    [InlineData("sentence,label\r\n", "no examples")]
    public void A_bad_csv_file_names_the_line_or_column(string csv, string problem)
    {
        string dir = data.AddTask("TC", "agnews", Topics, [new("a", "World")], [new("b", "Sports")]);
        File.Delete(Path.Combine(dir, "train.json"));
        data.Write("TC/agnews/train.csv", csv);

        var e = Assert.Throws<MiguUserException>(() => TaskCatalog.Open(data.Root).Load("agnews"));

        Assert.Equal($"{Path.Combine(dir, "train.csv")}: {problem}", e.Message);
    }

    [Fact]
    public void Csv_that_is_not_utf8_names_the_line()
    {
        string dir = data.AddTask("TC", "agnews", Topics, [new("a", "World")], [new("b", "Sports")]);
        File.Delete(Path.Combine(dir, "train.json"));
        File.WriteAllBytes(Path.Combine(dir, "train.csv"), [.. "sentence,label\nok,World\ncaf"u8, 0xE9, .. ",World\n"u8]);

        var e = Assert.Throws<MiguUserException>(() => TaskCatalog.Open(data.Root).Load("agnews"));

        Assert.Equal($"{Path.Combine(dir, "train.csv")}: line 3: not valid UTF-8 text", e.Message);
    }

    [Fact]
    public void A_parquet_label_column_that_is_not_text_or_class_ids_is_named()
    {
        string dir = data.AddTask("TC", "agnews", Topics, [new("a", "World")], [new("b", "Sports")]);
        File.Delete(Path.Combine(dir, "train.json"));
        File.Copy(Path.Combine(Fixtures, "floatlabel.parquet"), Path.Combine(dir, "train.parquet"));

        var e = Assert.Throws<MiguUserException>(() => TaskCatalog.Open(data.Root).Load("agnews"));

        Assert.Equal($"{Path.Combine(dir, "train.parquet")}: column \"label\" holds double (floating point), not text or integer class ids", e.Message);
    }

    [Fact]
    public void Bad_parquet_files_name_the_column_or_row()
    {
        string dir = data.AddTask("TC", "agnews", Topics, [new("a", "World")], [new("b", "Sports")]);
        File.Delete(Path.Combine(dir, "train.json"));
        string file = Path.Combine(dir, "train.parquet");
        string Problem()
        {
            string message = Assert.Throws<MiguUserException>(() => TaskCatalog.Open(data.Root).Load("agnews")).Message;
            Assert.StartsWith($"{file}: ", message, StringComparison.Ordinal);
            return message[(file.Length + 2)..];
        }

        ParquetFiles.Write<string?>(file, "content", ["a"], "label", ["World"]);
        Assert.Equal("no column \"sentence\" (nor \"text\") (columns: content, label)", Problem());
        ParquetFiles.Write<string?>(file, "sentence", ["a", null], "label", ["World", "World"]);
        Assert.Equal("row 1: \"sentence\" is null", Problem());
        ParquetFiles.Write<long?>(file, "sentence", ["a", "b"], "label", [0, null]);
        Assert.Equal("row 1: \"label\" is null", Problem());
        ParquetFiles.Write<string?>(file, "sentence", ["a"], "label", ["Wrld"]);
        Assert.Equal("row 0: label 'Wrld' is not in labels.json (World, Sports, Business, Finance, Sci/Tech)", Problem());
        File.WriteAllText(file, "sentence,label\na,World\n");
        Assert.StartsWith("not a readable Parquet file (", Problem(), StringComparison.Ordinal);
    }

    public static TheoryData<string, string> HostileParquet => new()
    {
        // Found by the loader fuzz test in classlabel.parquet (a 2,346-byte file whose footer starts at byte 1007):
        // 13 bytes after the footer's version field set to 0x80, and Parquet.Net read a string of 101 MiB's length and allocated it.
        { "footer", "not a readable Parquet file (the footer: a field header 0x80 has no type)" },
        // 5 bytes (the varint of 2^31 − 1) inserted at byte 586, before the label column's page: the footer's offsets now
        // point into them, and Parquet.Net took a page size from there and asked for an array past .NET's limit (OutOfMemoryException).
        { "varint", "not a readable Parquet file (column \"label\": a page header lacks its type or sizes)" },
    };

    [Theory]
    [MemberData(nameof(HostileParquet))]
    public void Parquet_sizes_no_file_of_its_length_holds_are_one_user_error_before_they_are_allocated(string edit, string expected)
    {
        byte[] bytes = File.ReadAllBytes(Path.Combine(Fixtures, "classlabel.parquet"));
        bytes = edit switch
        {
            "footer" => [.. bytes[..1009], .. Enumerable.Repeat((byte)0x80, 13), .. bytes[1022..]],
            _ => [.. bytes[..586], 0xFF, 0xFF, 0xFF, 0xFF, 0x07, .. bytes[586..]],
        };
        string dir = Path.Combine(data.Root, "TC", "news");
        Directory.CreateDirectory(dir);
        string file = Path.Combine(dir, "train.parquet");
        File.WriteAllBytes(file, bytes);
        File.Copy(Path.Combine(Fixtures, "strings.parquet"), Path.Combine(dir, "test.parquet"));

        long before = GC.GetAllocatedBytesForCurrentThread();
        var e = Assert.Throws<MiguUserException>(() => TaskCatalog.Open(data.Root).Load("news"));
        long allocated = GC.GetAllocatedBytesForCurrentThread() - before;

        Assert.True(allocated < 16 << 20, $"{allocated >> 20} MiB allocated for a file of {bytes.Length} bytes");
        Assert.Equal($"{file}: {expected}", e.Message);
    }

    [Fact]
    public void A_parquet_file_of_more_rows_than_eight_a_byte_is_refused()
    {
        // One text and one label repeated, gzipped: 100,000 rows in a few kilobytes (Snappy, Parquet.Net's default, stays near a row a byte).
        // No classification split is that; the bound keeps what a row count in a footer can make us allocate in proportion to the file.
        string dir = Path.Combine(data.Root, "TC", "news");
        string file = Path.Combine(dir, "train.parquet");
        ParquetFiles.Write<string?>(
            file, "sentence", [.. Enumerable.Repeat("same", 100_000)], "label", [.. Enumerable.Repeat("World", 100_000)], options: new ParquetOptions { CompressionMethod = CompressionMethod.Gzip });
        ParquetFiles.Write<string?>(Path.Combine(dir, "test.parquet"), "sentence", ["a"], "label", ["World"]);
        long length = new FileInfo(file).Length;

        var e = Assert.Throws<MiguUserException>(() => TaskCatalog.Open(data.Root).Load("news"));

        Assert.Equal($"{file}: row group 0 claims 100000 rows, more than a file of {length} bytes holds ({8 * length} rows at most, 8 a byte)", e.Message);
    }

    [Fact]
    public void A_json_lines_line_that_is_not_an_object_is_named()
    {
        string dir = data.AddTask("TC", "agnews", Topics, [new("a", "World")], [new("b", "Sports")]);
        File.Delete(Path.Combine(dir, "train.json"));
        data.Write("TC/agnews/train.jsonl", """{"sentence": "a", "label": "World"}""" + "\n" + """["b", "World"]""" + "\n");

        var e = Assert.Throws<MiguUserException>(() => TaskCatalog.Open(data.Root).Load("agnews"));

        Assert.Equal($"{Path.Combine(dir, "train.jsonl")}: line 2: expected an object with \"sentence\" and \"label\", found an array", e.Message);
    }

    [Fact]
    public void A_folder_named_by_its_path_is_a_task_of_the_type_above_it()
    {
        string dir = data.AddTask("SC", "moods", ["happy", "sad"], [new("a", "happy")], [new("b", "sad")]);
        var catalog = TaskCatalog.Embedded();

        TaskEntry entry = catalog.Find(dir + "/");
        TaskData task = catalog.Load(entry);

        Assert.Equal(("moods", "SC", dir), (entry.Name, entry.Type, entry.Location));
        Assert.Equal([new Example("a", "happy")], task.Train);
        Assert.Same(entry, task.Entry);
    }

    [Fact]
    public void A_file_named_by_its_path_is_a_training_split_whose_other_files_are_named_alike()
    {
        string dir = Path.Combine(data.Root, "exports");
        data.Write("exports/sst2-train.csv", "sentence,label\ngreat,positive\nawful,negative\n");
        data.Write("exports/sst2-validation.jsonl", """{"sentence": "fine", "label": "positive"}""");
        data.Write("exports/sst2-test.csv", "sentence,label\nbad,negative\n");
        data.Write("exports/sst2-labels.json", """["negative", "positive"]""");
        data.Write("exports/train.csv", "sentence,label\nnot,this\n"); // another task's files, not sst2's
        data.Write("cola/train.jsonl", """{"sentence": "x", "label": "ok"}""");
        data.Write("cola/test.jsonl", """{"sentence": "y", "label": "ok"}""");
        var catalog = TaskCatalog.Embedded();

        TaskEntry sst2 = catalog.Find(Path.Combine(dir, "sst2-train.csv"));
        TaskData task = catalog.Load(sst2);
        TaskEntry cola = catalog.Find(Path.Combine(data.Root, "cola", "train.jsonl"));

        Assert.Equal(("sst2", "exports", dir), (sst2.Name, sst2.Type, sst2.Location));
        Assert.Equal(["negative", "positive"], task.Labels);
        Assert.Equal([new Example("great", "positive"), new Example("awful", "negative")], task.Train);
        Assert.Equal([new Example("fine", "positive")], task.Dev);
        Assert.Equal([new Example("bad", "negative")], task.Test);
        Assert.Equal(("cola", Path.GetFileName(data.Root)), (cola.Name, cola.Type));
        Assert.Equal([new Example("y", "ok")], catalog.Load(cola).Test);
    }

    [Fact]
    public void A_path_that_names_no_task_is_refused()
    {
        string notes = data.Write("exports/notes.csv", "sentence,label\na,b\n");
        string text = data.Write("exports/train.txt", "a");
        string missing = Path.Combine(data.Root, "nowhere");
        var catalog = TaskCatalog.Embedded();

        Assert.Equal($"{missing}: no such file or folder (a task named by its path)", Assert.Throws<MiguUserException>(() => catalog.Find(missing)).Message);
        foreach (string file in new[] { notes, text })
        {
            Assert.Equal(
                $"{file}: a task named by a file is named by its training split, a .json, .jsonl, .csv, .parquet file with 'train' in its name (e.g. sst2-train.jsonl); or name the task's folder",
                Assert.Throws<MiguUserException>(() => catalog.Find(file)).Message);
        }

        string sst2 = data.Write("a/sst2/train.csv", "sentence,label\nx,y\n");
        Assert.Equal(
            $"{Path.Combine(data.Root, "a", "sst2", "test.json")}: no such file (nor test.jsonl, test.csv, test.parquet)",
            Assert.Throws<MiguUserException>(() => catalog.Load(catalog.Find(sst2))).Message);
    }

    [Fact]
    public void A_task_list_mixes_names_and_paths_and_refuses_two_tasks_of_one_name()
    {
        string sst2 = data.Write("one/sst2/train.jsonl", """{"sentence": "x", "label": "ok"}""");
        data.Write("one/sst2/test.jsonl", """{"sentence": "y", "label": "ok"}""");
        data.Write("two/sst2/train.jsonl", """{"sentence": "x", "label": "ok"}""");
        var catalog = TaskCatalog.Embedded();

        IReadOnlyList<TaskEntry> run = TaskOrders.Resolve(catalog, order: null, ["agnews", sst2]);

        Assert.Equal(["agnews", "sst2"], run.Select(e => e.Name));
        Assert.Equal("TC", run[0].Type);
        string one = Path.Combine(data.Root, "one", "sst2");
        string two = Path.Combine(data.Root, "two", "sst2");
        var e = Assert.Throws<MiguUserException>(() => TaskOrders.Resolve(catalog, order: null, [one, "agnews", two]));
        Assert.Equal($"tasks: {one} and {two} are both named 'sst2'; a run needs distinct task names (rename a folder or file)", e.Message);
    }

    [Fact]
    public void A_recipe_names_the_fields_under_data_options()
    {
        Recipe recipe = RecipeJson.Deserialize("""{"data_options": {"text_field": "content", "label_field": "topic"}}""", "recipe.json");

        Assert.Equal(("content", "topic"), (recipe.DataOptions.TextField, recipe.DataOptions.LabelField));
        Assert.Contains("\"text_field\": \"content\"", RecipeJson.Serialize(recipe), StringComparison.Ordinal);
    }

    private static Example[] Expected(string fixture) =>
        [.. JsonDocument.Parse(File.ReadAllText(Path.Combine(Fixtures, $"{fixture}.expected.json"))).RootElement.EnumerateArray()
            .Select(e => new Example(e.GetProperty("sentence").GetString()!, e.GetProperty("label").GetString()!))];

    private void WriteSplit(string relative, Example[] examples)
    {
        string path = Path.Combine(data.Root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        switch (Path.GetExtension(path))
        {
            case ".json":
                File.WriteAllText(path, TempDataRoot.Serialize(examples));
                break;
            case ".jsonl":
                File.WriteAllLines(path, examples.Select(e => JsonSerializer.Serialize(new { sentence = e.Sentence, label = e.Label })));
                break;
            case ".csv":
                static string Quote(string s) => '"' + s.Replace("\"", "\"\"", StringComparison.Ordinal) + '"';
                File.WriteAllText(path, "sentence,label\r\n" + string.Concat(examples.Select(e => $"{Quote(e.Sentence)},{Quote(e.Label)}\r\n")), Encoding.UTF8);
                break;
            default:
                ParquetFiles.Write(path, "sentence", [.. examples.Select(e => e.Sentence)], "label", examples.Select(e => e.Label).ToArray<string?>());
                break;
        }
    }
}
