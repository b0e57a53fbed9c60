using System.Text.Json;
using System.Text.Json.Serialization;
using Migu.Continual.Strategies;
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
            Recipe recipe = JsonSerializer.Deserialize<Recipe>(json, Options)
                ?? throw new MiguUserException($"{source}: the recipe is null");
            CheckSections(recipe, source);
            return recipe;
        }
        catch (JsonException e)
        {
            string where = e.Path is { Length: > 0 } path ? $" at {path}" : string.Empty;
            throw new MiguUserException($"{source}: not a valid recipe{where}: {FirstLine(e.Message)}", e);
        }
    }

    /// <summary>A key the recipe does not declare must be the section of a registered method, and read as that method's settings.</summary>
    private static void CheckSections(Recipe recipe, string source)
    {
        foreach (var (key, json) in recipe.Extensions ?? new Dictionary<string, JsonElement>())
        {
            Type type = ContinualMethods.All.Select(m => m.Section).FirstOrDefault(s => s?.Name == key)?.Type
                ?? throw new MiguUserException($"{source}: not a valid recipe at $.{key}: '{key}' is neither a recipe key nor the section of a registered method");
            try
            {
                _ = json.Deserialize(type, Options);
            }
            catch (JsonException e)
            {
                throw new MiguUserException($"{source}: not a valid recipe at $.{key}{e.Path?.TrimStart('$')}: {FirstLine(e.Message)}", e);
            }
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
