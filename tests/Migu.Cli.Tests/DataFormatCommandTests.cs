using System.Text.Json.Nodes;

namespace Migu.Cli.Tests;

/// <summary>`migu run` on tasks in CSV and JSON Lines named by their paths, with other column names and no labels.json.</summary>
public sealed class DataFormatCommandTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("migu-formats").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void A_run_takes_tasks_by_path_in_csv_and_json_lines_and_logs_where_their_labels_came_from()
    {
        string colors = Write("exports/colors-train.csv", Csv("red", "blue"));
        Write("exports/colors-test.csv", Csv("red", "blue"));
        Write("moods/train.jsonl", JsonLines("happy", "sad"));
        Write("moods/test.jsonl", JsonLines("happy", "sad"));
        string outDir = Path.Combine(root, "run");

        var (code, _, stderr) = MiguProcess.Run(RunArgs($"{colors},{Path.Combine(root, "moods")}", outDir));

        Assert.True(code == 0, stderr);
        JsonNode metrics = JsonNode.Parse(File.ReadAllText(Path.Combine(outDir, "metrics.json")))!;
        Assert.Equal(["colors", "moods"], metrics["tasks"]!.AsArray().Select(t => t!.GetValue<string>()));
        string log = File.ReadAllText(Path.Combine(outDir, "run.log"));
        Assert.Contains("task colors: no labels.json; labels are the distinct labels of colors-train.csv, sorted: blue, red", log, StringComparison.Ordinal);
        Assert.Contains("task moods: no labels.json; labels are the distinct labels of train.jsonl, sorted: happy, sad", log, StringComparison.Ordinal);
    }

    [Fact]
    public void Bad_task_files_are_one_line_naming_file_and_place_with_exit_2_and_nothing_written()
    {
        Write("bad/nocolumn/train.csv", "sentence,label\na,b\n");
        Write("bad/nocolumn/test.csv", "sentence,label\na,b\n");
        Write("bad/notobject/train.jsonl", "{\"content\": \"a\", \"label\": \"x\"}\n[1, 2]\n");
        Write("bad/notobject/test.jsonl", "{\"content\": \"a\", \"label\": \"x\"}\n");
        Write("bad/floats/test.jsonl", "{\"sentence\": \"a\", \"label\": \"x\"}\n");
        string floats = Path.Combine(root, "bad", "floats", "train.parquet");
        File.Copy(RepoFiles.Path("tests", "Migu.Continual.Tests", "Fixtures", "formats", "floatlabel.parquet"), floats);

        AssertUserError(RunArgs(Path.Combine(root, "bad", "nocolumn"), Path.Combine(root, "a")), "nocolumn/train.csv: the header has no column \"content\" (columns: sentence, label)");
        AssertUserError(RunArgs(Path.Combine(root, "bad", "notobject"), Path.Combine(root, "b")), "notobject/train.jsonl: line 2: expected an object with \"content\" and \"label\", found an array");
        AssertUserError(RunArgs(Path.Combine(root, "bad", "missing"), Path.Combine(root, "c")), "missing: no such file or folder");
        AssertUserError(RunArgs(floats, Path.Combine(root, "d"), textField: "sentence"), $"{floats}: column \"label\" holds double (floating point), not text or integer class ids");
        foreach (string dir in new[] { "a", "b", "c", "d" })
        {
            Assert.False(Directory.Exists(Path.Combine(root, dir)), dir);
        }
    }

    private static string[] RunArgs(string tasks, string outDir, string textField = "content") =>
    [
        "run", "--tasks", tasks, "--text-field", textField, "--model", "llama-tiny", "--epochs", "1", "--batch", "4",
        "--lr", "3e-3", "--max-source-len", "64", "--max-target-len", "4", "--eval", "rank", "--out", outDir,
    ];

    private static string Csv(params string[] labels) =>
        "id,content,label\r\n" + string.Concat(Enumerable.Range(0, 8).Select(i => $"{i},\"item {i}, looks {labels[i % labels.Length]}\",{labels[i % labels.Length]}\r\n"));

    private static string JsonLines(params string[] labels) =>
        string.Concat(Enumerable.Range(0, 8).Select(i => $"{{\"content\": \"item {i} feels {labels[i % labels.Length]}\", \"label\": \"{labels[i % labels.Length]}\"}}\n"));

    private string Write(string relative, string text)
    {
        string path = Path.Combine(root, relative);
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        File.WriteAllText(path, text);
        return path;
    }

    private static void AssertUserError(string[] args, params string[] expected)
    {
        var (code, stdout, stderr) = MiguProcess.Run(args);
        Assert.True(code == 2, $"exit {code}: {stderr}");
        string line = stderr.Trim();
        Assert.StartsWith("error: ", line, StringComparison.Ordinal);
        Assert.DoesNotContain('\n', line);
        Assert.DoesNotContain("   at ", stdout + stderr, StringComparison.Ordinal);
        foreach (string part in expected)
        {
            Assert.Contains(part, line, StringComparison.Ordinal);
        }
    }
}
