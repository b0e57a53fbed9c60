using Migu.Continual.Pretraining;
using Migu.Core;

namespace Migu.Continual.Tests.Pretraining;

public sealed class TextCorpusTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("migu-corpus").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void Text_files_give_one_document_a_non_blank_line()
    {
        string file = Write("a.txt", "first line\n\n  \nsecond line\r\n");
        Assert.Equal(["first line", "second line"], TextCorpus.Read(file));
        Assert.Equal("a", TextCorpus.NameOf(file));
    }

    [Fact]
    public void Json_lines_give_their_text_or_sentence_field()
    {
        string file = Write("b.jsonl", "{\"text\": \"one\"}\n\n{\"sentence\": \"two\", \"label\": \"x\"}\n");
        Assert.Equal(["one", "two"], TextCorpus.Read(file));
    }

    [Fact]
    public void Cl_benchmark_splits_and_dataset_folders_give_their_sentences()
    {
        string dataset = Path.Combine(root, "TC", "news");
        Directory.CreateDirectory(dataset);
        File.WriteAllText(Path.Combine(dataset, "labels.json"), "[\"a\", \"b\"]");
        File.WriteAllText(Path.Combine(dataset, "train.json"), "[{\"sentence\": \"s1\", \"label\": \"a\"}, {\"sentence\": \"s2\", \"label\": \"b\"}]");
        File.WriteAllText(Path.Combine(dataset, "test.json"), "[{\"sentence\": \"t1\", \"label\": \"a\"}]");
        Assert.Equal(["s1", "s2"], TextCorpus.Read(dataset));
        Assert.Equal(["t1"], TextCorpus.Read(Path.Combine(dataset, "test.json")));
        Assert.Equal("news", TextCorpus.NameOf(dataset));
        Assert.Equal("news-test", TextCorpus.NameOf(Path.Combine(dataset, "test.json")));
    }

    [Fact]
    public void A_folder_of_files_is_read_in_name_order()
    {
        string folder = Path.Combine(root, "mixed");
        Directory.CreateDirectory(folder);
        File.WriteAllText(Path.Combine(folder, "2.txt"), "later\n");
        File.WriteAllText(Path.Combine(folder, "1.jsonl"), "{\"text\": \"earlier\"}\n");
        File.WriteAllText(Path.Combine(folder, "3.json"), "[\"last\"]");
        File.WriteAllText(Path.Combine(folder, "notes.md"), "ignored\n");
        Assert.Equal(["earlier", "later", "last"], TextCorpus.Read(folder));
    }

    [Fact]
    public void Problems_name_the_file_and_the_line_or_item()
    {
        Assert.Contains("b.jsonl: line 2: no \"text\" or \"sentence\" string", Message(Write("b.jsonl", "{\"text\": \"ok\"}\n{\"body\": 1}\n")), StringComparison.Ordinal);
        Assert.Contains("c.jsonl: line 1 is not JSON", Message(Write("c.jsonl", "{oops\n")), StringComparison.Ordinal);
        Assert.Contains("d.json: item 1", Message(Write("d.json", "[\"fine\", 3]")), StringComparison.Ordinal);
        Assert.Contains("holds no text", Message(Write("e.txt", "\n\n")), StringComparison.Ordinal);
        Assert.Contains("no such corpus", Message(Path.Combine(root, "missing.txt")), StringComparison.Ordinal);
    }

    private string Write(string name, string text)
    {
        string path = Path.Combine(root, name);
        File.WriteAllText(path, text);
        return path;
    }

    private static string Message(string path) => Assert.Throws<MiguUserException>(() => TextCorpus.Read(path)).Message;
}
