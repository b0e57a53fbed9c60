using System.Text.Json;
using Migu.Continual.Data;
using Migu.Core;

namespace Migu.Continual.Pretraining;

/// <summary>
/// Unlabeled documents from a corpus path: a text file (each non-blank line a document), a JSON
/// Lines file (each line an object whose <c>text</c>, else <c>sentence</c>, is a document), a JSON
/// array file (of such objects, as CL_Benchmark splits are, or of strings), a CL_Benchmark dataset
/// folder (its training split), or a folder of such files (its .txt, .jsonl and .json files, in name order).
/// </summary>
public static class TextCorpus
{
    private static readonly string[] TextFields = ["text", "sentence"];

    /// <summary>The documents at <paramref name="path"/>, in file order; an empty corpus is an error.</summary>
    public static IReadOnlyList<string> Read(string path)
    {
        ArgumentNullException.ThrowIfNull(path);
        List<string> documents;
        if (File.Exists(path))
        {
            documents = ReadFile(path);
        }
        else if (Directory.Exists(path))
        {
            documents = [.. FilesOf(path).SelectMany(ReadFile)];
        }
        else
        {
            throw new MiguUserException($"{path}: no such corpus file or folder");
        }

        return documents.Count > 0 ? documents : throw new MiguUserException($"{path}: the corpus holds no text");
    }

    /// <summary>
    /// A name for <paramref name="path"/>: the file name without its extension (a CL_Benchmark split
    /// file is named with its dataset: dbpedia-test), or the folder's name.
    /// </summary>
    public static string NameOf(string path)
    {
        string full = Path.GetFullPath(path).TrimEnd(Path.DirectorySeparatorChar);
        if (!File.Exists(full))
        {
            return Path.GetFileName(full);
        }

        string name = Path.GetFileNameWithoutExtension(full);
        string? folder = Path.GetDirectoryName(full);
        bool split = name is "train" or "dev" or "test" && folder is not null && File.Exists(Path.Combine(folder, "labels.json"));
        return split ? $"{Path.GetFileName(folder)}-{name}" : name;
    }

    /// <summary>A CL_Benchmark dataset folder gives its train split; any other folder its text files.</summary>
    private static List<string> FilesOf(string directory)
    {
        foreach (string split in new[] { "train.json", "train.jsonl" })
        {
            string file = Path.Combine(directory, split);
            if (File.Exists(file))
            {
                return [file];
            }
        }

        var files = Directory.GetFiles(directory)
            .Where(f => Path.GetExtension(f) is ".txt" or ".jsonl" or ".json" && Path.GetFileName(f) != "labels.json")
            .Order(StringComparer.Ordinal)
            .ToList();
        return files.Count > 0
            ? files
            : throw new MiguUserException($"{directory}: no .txt, .jsonl or .json files and no CL_Benchmark train split here");
    }

    private static List<string> ReadFile(string file) => Path.GetExtension(file).ToLowerInvariant() switch
    {
        ".jsonl" => ReadJsonLines(file),
        ".json" => ReadJsonArray(file),
        _ => [.. File.ReadLines(file).Select(l => l.TrimEnd('\r')).Where(l => l.Trim().Length > 0)],
    };

    private static List<string> ReadJsonLines(string file)
    {
        var documents = new List<string>();
        int number = 0;
        foreach (string line in File.ReadLines(file))
        {
            number++;
            if (line.Trim().Length == 0)
            {
                continue;
            }

            try
            {
                using JsonDocument doc = JsonDocument.Parse(line);
                documents.Add(TextOf(doc.RootElement, $"{file}: line {number}"));
            }
            catch (JsonException e)
            {
                throw new MiguUserException($"{file}: line {number} is not JSON: {JsonErrorText.Reason(e)}", e);
            }
        }

        return documents;
    }

    private static List<string> ReadJsonArray(string file)
    {
        JsonDocument doc;
        try
        {
            doc = JsonDocument.Parse(File.ReadAllBytes(file));
        }
        catch (JsonException e)
        {
            throw new MiguUserException($"{file}: not valid JSON ({JsonErrorText.Position(e)}): {JsonErrorText.Reason(e)}", e);
        }

        using (doc)
        {
            if (doc.RootElement.ValueKind != JsonValueKind.Array)
            {
                throw new MiguUserException($"{file}: expected a JSON array of documents (objects with \"text\" or \"sentence\", or strings)");
            }

            return [.. doc.RootElement.EnumerateArray().Select((e, i) => TextOf(e, $"{file}: item {i}"))];
        }
    }

    private static string TextOf(JsonElement element, string where)
    {
        if (element.ValueKind == JsonValueKind.String)
        {
            return element.GetString()!;
        }

        if (element.ValueKind == JsonValueKind.Object)
        {
            foreach (string field in TextFields)
            {
                if (element.TryGetProperty(field, out JsonElement value) && value.ValueKind == JsonValueKind.String)
                {
                    return value.GetString()!;
                }
            }
        }

        throw new MiguUserException($"{where}: no \"text\" or \"sentence\" string");
    }
}
