using System.Text.Json;
using System.Text.Json.Serialization;
using Migu.Core;

namespace Migu.Continual.Recipes;

/// <summary>Reading and writing recipes (snake_case keys, indented, nulls left out).</summary>
public static class RecipeJson
{
    public static JsonSerializerOptions Options { get; } = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        WriteIndented = true,
        DefaultIgnoreCondition = JsonIgnoreCondition.WhenWritingNull,
        UnmappedMemberHandling = JsonUnmappedMemberHandling.Disallow,
        ReadCommentHandling = JsonCommentHandling.Skip,
        AllowTrailingCommas = true,
    };

    public static string Serialize(Recipe recipe) => JsonSerializer.Serialize(recipe, Options);

    /// <summary>Parses recipe JSON; <paramref name="source"/> names the file in error messages.</summary>
    public static Recipe Deserialize(string json, string source)
    {
        try
        {
            return JsonSerializer.Deserialize<Recipe>(json, Options)
                ?? throw new MiguUserException($"{source}: the recipe is null");
        }
        catch (JsonException e)
        {
            string where = e.Path is { Length: > 0 } path ? $" at {path}" : string.Empty;
            throw new MiguUserException($"{source}: not a valid recipe{where}: {FirstLine(e.Message)}", e);
        }
    }

    /// <summary>Reads a recipe file.</summary>
    public static Recipe Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new MiguUserException($"{path}: no such recipe file");
        }

        return Deserialize(File.ReadAllText(path), path);
    }

    private static string FirstLine(string text) => text.Split('\n')[0].Trim();
}
