using System.Text.Json;
using Migu.Continual.Data;
using Migu.Continual.Recipes;
using Migu.Core;

namespace Migu.Continual.Prompts;

/// <summary>
/// Which instruction a task's prompt carries. A user's instruction file is a JSON object from a
/// dataset name or a task type to an instruction string; keys match case-insensitively. A value
/// may also be the O-LoRA file's list form, <c>[{"instruction_type": "zero-shot", "instruction": "…"}]</c>,
/// of which the first zero-shot entry is used. Lookup: the user's entry for the dataset, then
/// for the type, then the built-in one for the type, then a generic one. A non-empty instruction
/// that does not end with a newline gets one, so the option line stays on a line of its own.
/// </summary>
public sealed class InstructionSet
{
    private readonly Dictionary<string, string> overrides;

    private InstructionSet(Dictionary<string, string> overrides) => this.overrides = overrides;

    /// <summary>The built-in instructions alone.</summary>
    public static InstructionSet BuiltIn { get; } = new(new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase));

    /// <summary>The user's entries, as read (newline added).</summary>
    public IReadOnlyDictionary<string, string> Overrides => overrides;

    /// <summary><c>data_options.instructions</c>: the file it names, or the built-in set.</summary>
    public static InstructionSet For(DataSettings settings) => settings.Instructions is string path ? Load(path) : BuiltIn;

    public static InstructionSet Load(string path) =>
        File.Exists(path)
            ? Parse(File.ReadAllText(path), path)
            : throw new MiguUserException($"{path}: no such instruction file");

    /// <summary>Parses an instruction file's text; <paramref name="source"/> names it in messages.</summary>
    public static InstructionSet Parse(string json, string source)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw new MiguUserException($"{source}: malformed JSON at {JsonErrorText.Position(e)}: {JsonErrorText.Reason(e)}", e);
        }

        using (document)
        {
            if (document.RootElement.ValueKind != JsonValueKind.Object)
            {
                throw new MiguUserException($"{source}: expected a JSON object from task type or dataset name to instruction");
            }

            var entries = new Dictionary<string, string>(StringComparer.OrdinalIgnoreCase);
            foreach (JsonProperty property in document.RootElement.EnumerateObject())
            {
                if (!entries.TryAdd(property.Name, WithNewline(Instruction(property, source))))
                {
                    string earlier = entries.Keys.First(k => string.Equals(k, property.Name, StringComparison.OrdinalIgnoreCase));
                    throw new MiguUserException($"{source}: keys '{earlier}' and '{property.Name}' name the same task (keys ignore case)");
                }
            }

            return new InstructionSet(entries);
        }
    }

    /// <summary>The instruction for dataset <paramref name="dataset"/> of type <paramref name="type"/>.</summary>
    public string Resolve(string dataset, string type) =>
        overrides.TryGetValue(dataset, out string? byName) ? byName
        : overrides.TryGetValue(type, out string? byType) ? byType
        : DefaultInstructions.ByType.TryGetValue(type, out string? builtIn) ? builtIn
        : DefaultInstructions.Generic;

    private static string Instruction(JsonProperty property, string source)
    {
        JsonElement value = property.Value;
        if (value.ValueKind == JsonValueKind.String)
        {
            return value.GetString()!;
        }

        if (value.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement entry in value.EnumerateArray())
            {
                if (entry.ValueKind == JsonValueKind.Object
                    && entry.TryGetProperty("instruction", out JsonElement text) && text.ValueKind == JsonValueKind.String
                    && (!entry.TryGetProperty("instruction_type", out JsonElement kind) || kind.ValueEquals("zero-shot")))
                {
                    return text.GetString()!;
                }
            }
        }

        throw new MiguUserException(
            $"{source}: key '{property.Name}': expected an instruction string (or a list holding a zero-shot {{\"instruction\": …}} entry)");
    }

    private static string WithNewline(string instruction) =>
        instruction.Length == 0 || instruction.EndsWith('\n') ? instruction : instruction + "\n";
}
