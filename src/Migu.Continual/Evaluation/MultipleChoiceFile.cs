using System.Text.Json;
using Migu.Continual.Data;
using Migu.Core;

namespace Migu.Continual.Evaluation;

/// <summary>
/// Reads multiple-choice benchmarks as JSON Lines, one question a line:
/// <c>{"context": "…", "choices": ["…", "…"], "answer": 1}</c>, the answer being the 0-based index
/// of the right choice or the right choice's text. HellaSwag (ctx / endings / label), WinoGrande and
/// ARC convert to this shape; blank lines are skipped; problems name the file and line.
/// </summary>
public static class MultipleChoiceFile
{
    /// <summary>The questions of <paramref name="path"/>, the first <paramref name="maxItems"/> of them when given.</summary>
    public static IReadOnlyList<MultipleChoiceItem> Read(string path, int? maxItems = null)
    {
        if (!File.Exists(path))
        {
            throw new MiguUserException($"{path}: no such multiple-choice file");
        }

        var items = new List<MultipleChoiceItem>();
        int number = 0;
        foreach (string line in File.ReadLines(path))
        {
            number++;
            if (line.Trim().Length == 0)
            {
                continue;
            }

            if (maxItems is int max && items.Count >= max)
            {
                break;
            }

            try
            {
                using JsonDocument doc = JsonDocument.Parse(line);
                items.Add(Item(doc.RootElement, $"{path}: line {number}"));
            }
            catch (JsonException e)
            {
                throw new MiguUserException($"{path}: line {number} is not JSON: {JsonErrorText.Reason(e)}", e);
            }
        }

        return items.Count > 0 ? items : throw new MiguUserException($"{path}: no questions");
    }

    private static MultipleChoiceItem Item(JsonElement e, string where)
    {
        if (e.ValueKind != JsonValueKind.Object)
        {
            throw new MiguUserException($"{where}: expected an object with context, choices and answer");
        }

        string context = e.TryGetProperty("context", out JsonElement c) && c.ValueKind == JsonValueKind.String
            ? c.GetString()!
            : throw new MiguUserException($"{where}: \"context\" must be a string");
        if (!e.TryGetProperty("choices", out JsonElement list) || list.ValueKind != JsonValueKind.Array)
        {
            throw new MiguUserException($"{where}: \"choices\" must be an array of strings");
        }

        string[] choices = [.. list.EnumerateArray().Select(x => x.ValueKind == JsonValueKind.String && x.GetString()!.Length > 0
            ? x.GetString()!
            : throw new MiguUserException($"{where}: every choice must be a non-empty string"))];
        if (choices.Length < 2)
        {
            throw new MiguUserException($"{where}: at least two choices are needed");
        }

        if (!e.TryGetProperty("answer", out JsonElement a))
        {
            throw new MiguUserException($"{where}: \"answer\" is missing");
        }

        int answer = a.ValueKind switch
        {
            JsonValueKind.Number when a.TryGetInt32(out int i) && i >= 0 && i < choices.Length => i,
            JsonValueKind.String when Array.IndexOf(choices, a.GetString()) is int i && i >= 0 => i,
            _ => throw new MiguUserException($"{where}: \"answer\" must be a choice's index (0–{choices.Length - 1}) or its text"),
        };
        return new MultipleChoiceItem(context, choices, answer);
    }
}
