using System.Text.Json;
using Migu.Continual.Evaluation;
using Migu.Core;

namespace Migu.Continual.Data;

/// <summary>
/// Reads and checks labels.json and the JSON example files (a JSON array, or JSON Lines: one object
/// a line, blank lines skipped) of a task. Every problem is one line naming the file and the item
/// (0-based array index) or line (1-based).
/// </summary>
internal static class TaskFileReader
{
    private const int LabelsShownInMessages = 20;

    public static IReadOnlyList<string> ReadLabels(byte[] bytes, string file)
    {
        using JsonDocument document = Parse(bytes, file, where: null);
        JsonElement root = document.RootElement;
        if (root.ValueKind != JsonValueKind.Array)
        {
            throw new MiguUserException($"{file}: expected a JSON array of label strings, found {Kind(root)}");
        }

        var labels = new List<string>();
        var byNormalized = new Dictionary<string, int>(StringComparer.Ordinal);
        int index = 0;
        foreach (JsonElement item in root.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.String)
            {
                throw new MiguUserException($"{file}: item {index} is {Kind(item)}, not a label string");
            }

            string label = Text(item, file, $"item {index}");
            string normalized = AnswerNormalizer.Normalize(label);
            if (normalized.Length == 0)
            {
                throw new MiguUserException($"{file}: item {index}: label '{label}' is empty once lower-cased and stripped of punctuation, so no answer could match it");
            }

            if (byNormalized.TryGetValue(normalized, out int earlier))
            {
                string what = labels[earlier] == label
                    ? $"label '{label}' appears twice (items {earlier} and {index})"
                    : $"labels '{labels[earlier]}' (item {earlier}) and '{label}' (item {index}) are the same answer once lower-cased and stripped of punctuation";
                throw new MiguUserException($"{file}: {what}");
            }

            byNormalized.Add(normalized, index);
            labels.Add(label);
            index++;
        }

        return labels.Count > 0 ? labels : throw new MiguUserException($"{file}: no labels");
    }

    /// <summary>
    /// Checks a label list that no labels.json gave (the training labels, or a Parquet file's class
    /// names) as labels.json is checked: no label empty or equal to another once normalized.
    /// </summary>
    public static void CheckLabelSet(IReadOnlyList<string> labels, string file)
    {
        var byNormalized = new Dictionary<string, string>(StringComparer.Ordinal);
        foreach (string label in labels)
        {
            string normalized = AnswerNormalizer.Normalize(label);
            if (normalized.Length == 0)
            {
                throw new MiguUserException($"{file}: label '{label}' is empty once lower-cased and stripped of punctuation, so no answer could match it");
            }

            if (!byNormalized.TryAdd(normalized, label))
            {
                throw new MiguUserException(
                    $"{file}: labels '{byNormalized[normalized]}' and '{label}' are the same answer once lower-cased and stripped of punctuation; list the labels in labels.json");
            }
        }
    }

    /// <summary>A JSON array of example objects, or JSON Lines (one object a line, blank lines skipped).</summary>
    public static RawSplit ReadJson(byte[] bytes, string file, bool jsonLines, TaskFields fields)
    {
        var examples = new List<RawExample>();
        if (jsonLines)
        {
            ReadLines(bytes, file, fields, examples);
        }
        else
        {
            using JsonDocument document = Parse(bytes, file, where: null);
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Array)
            {
                throw new MiguUserException($"{file}: expected a JSON array of {{\"{fields.TextCandidates[0]}\", \"{fields.LabelName}\"}} objects, found {Kind(root)}");
            }

            int index = 0;
            foreach (JsonElement item in root.EnumerateArray())
            {
                examples.Add(ToExample(item, file, $"item {index}", fields));
                index++;
            }
        }

        return new RawSplit(file, examples);
    }

    private static void ReadLines(byte[] bytes, string file, TaskFields fields, List<RawExample> examples)
    {
        ReadOnlySpan<byte> rest = SkipBom(bytes);
        int offset = bytes.Length - rest.Length;
        int line = 0;
        while (offset < bytes.Length)
        {
            line++;
            int length = Array.IndexOf(bytes, (byte)'\n', offset) is int newline and >= 0 ? newline - offset : bytes.Length - offset;
            var text = new ReadOnlyMemory<byte>(bytes, offset, length);
            offset += length + 1;
            if (text.Span.Trim(" \t\r"u8).IsEmpty)
            {
                continue;
            }

            using JsonDocument document = Parse(text, file, $"line {line}");
            examples.Add(ToExample(document.RootElement, file, $"line {line}", fields));
        }
    }

    private static RawExample ToExample(JsonElement item, string file, string where, TaskFields fields)
    {
        if (item.ValueKind != JsonValueKind.Object)
        {
            throw new MiguUserException($"{file}: {where}: expected an object with \"{fields.TextCandidates[0]}\" and \"{fields.LabelName}\", found {Kind(item)}");
        }

        string? key = fields.TextCandidates.FirstOrDefault(k => item.TryGetProperty(k, out _))
            ?? throw new MiguUserException($"{file}: {where}: no {fields.MissingText}");
        JsonElement text = item.GetProperty(key);
        string sentence = text.ValueKind == JsonValueKind.String
            ? Text(text, file, $"{where}: \"{key}\"")
            : throw new MiguUserException($"{file}: {where}: \"{key}\" is {Kind(text)}, not a string");
        string labelKey = fields.LabelName;
        if (!item.TryGetProperty(labelKey, out JsonElement label))
        {
            throw new MiguUserException($"{file}: {where}: no \"{labelKey}\"");
        }

        return label.ValueKind switch
        {
            JsonValueKind.String => new RawExample(sentence, Text(label, file, $"{where}: \"{labelKey}\""), 0, where),
            JsonValueKind.Number when label.TryGetInt64(out long id) => new RawExample(sentence, null, id, where),
            JsonValueKind.Number => throw new MiguUserException($"{file}: {where}: \"{labelKey}\" is a number that is not a whole class id"),
            _ => throw new MiguUserException($"{file}: {where}: \"{labelKey}\" is {Kind(label)}, not a string or a class id"),
        };
    }

    // The parser checks structure, not the bytes inside strings; decoding them is where bad UTF-8 shows.
    private static string Text(JsonElement value, string file, string what)
    {
        try
        {
            return value.GetString()!;
        }
        catch (InvalidOperationException e)
        {
            throw new MiguUserException($"{file}: {what} is not valid UTF-8 text", e);
        }
    }

    private static JsonDocument Parse(byte[] bytes, string file, string? where) =>
        Parse(bytes.AsMemory(bytes.Length - SkipBom(bytes).Length), file, where);

    private static JsonDocument Parse(ReadOnlyMemory<byte> bytes, string file, string? where)
    {
        try
        {
            return JsonDocument.Parse(bytes);
        }
        catch (JsonException e)
        {
            // A JSON Lines record is parsed alone: the line is the file's, the byte counts from its start.
            string position = where is null ? JsonErrorText.Position(e) : $"{where}, byte {e.BytePositionInLine + 1}";
            throw new MiguUserException($"{file}: malformed JSON at {position}: {JsonErrorText.Reason(e)}", e);
        }
    }

    private static ReadOnlySpan<byte> SkipBom(byte[] bytes) =>
        bytes.AsSpan().StartsWith("\uFEFF"u8) ? bytes.AsSpan(3) : bytes;

    public static string ListLabels(IReadOnlyList<string> labels) =>
        labels.Count <= LabelsShownInMessages
            ? string.Join(", ", labels)
            : $"{string.Join(", ", labels.Take(LabelsShownInMessages))}, … {labels.Count} in all";

    private static string Kind(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "an array",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => "a number",
        JsonValueKind.True or JsonValueKind.False => "a boolean",
        JsonValueKind.Null => "null",
        _ => "nothing",
    };
}
