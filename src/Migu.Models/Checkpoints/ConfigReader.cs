using System.Text.Json;

namespace Migu.Models.Checkpoints;

/// <summary>
/// Reads a Hugging Face config.json with clear errors, accepting several spellings of a key
/// (old and new names, or a key nested in an object such as <c>rope_parameters.rope_theta</c>,
/// written with a dot).
/// </summary>
public sealed class ConfigReader
{
    private readonly JsonElement root;

    public ConfigReader(JsonElement root, string source)
    {
        if (root.ValueKind != JsonValueKind.Object)
        {
            throw new CheckpointException($"{source}: a config must be a JSON object");
        }

        this.root = root;
        Source = source;
    }

    /// <summary>The file (or text) this config came from, for messages.</summary>
    public string Source { get; }

    public JsonElement Root => root;

    /// <summary>Parses <paramref name="path"/>; a missing file or malformed JSON is a <see cref="CheckpointException"/>.</summary>
    public static ConfigReader FromFile(string path)
    {
        if (!File.Exists(path))
        {
            throw new CheckpointException($"{path}: not found");
        }

        return FromText(File.ReadAllText(path), path);
    }

    public static ConfigReader FromText(string json, string source)
    {
        try
        {
            using var doc = JsonDocument.Parse(json);
            return new ConfigReader(doc.RootElement.Clone(), source);
        }
        catch (JsonException e)
        {
            throw new CheckpointException($"{source}: malformed JSON ({e.Message})", e);
        }
    }

    /// <summary>Refuses a config whose <c>model_type</c> is present and not one of <paramref name="accepted"/>.</summary>
    public void RequireModelType(params string[] accepted)
    {
        string? modelType = String("model_type");
        if (modelType is not null && !accepted.Contains(modelType, StringComparer.Ordinal))
        {
            throw new CheckpointException($"{Source}: model_type is '{modelType}', expected '{accepted[0]}'");
        }
    }

    /// <summary>The first of <paramref name="keys"/> that is present and not null.</summary>
    public JsonElement? Find(params string[] keys)
    {
        foreach (string key in keys)
        {
            JsonElement current = root;
            bool found = true;
            foreach (string part in key.Split('.'))
            {
                if (current.ValueKind != JsonValueKind.Object || !current.TryGetProperty(part, out current))
                {
                    found = false;
                    break;
                }
            }

            if (found && current.ValueKind != JsonValueKind.Null)
            {
                return current;
            }
        }

        return null;
    }

    public string? String(params string[] keys) => GetString(keys);

    public long Long(long fallback, params string[] keys) => GetValue<long>(keys, e => e.GetInt64()) ?? fallback;

    public long RequireLong(params string[] keys) => GetValue<long>(keys, e => e.GetInt64()) ?? throw Missing(keys);

    public double Double(double fallback, params string[] keys) => GetValue<double>(keys, e => e.GetDouble()) ?? fallback;

    public bool Bool(bool fallback, params string[] keys) => GetValue<bool>(keys, e => e.GetBoolean()) ?? fallback;

    /// <summary>An integer or the first of a list of integers (eos_token_id may be either).</summary>
    public long? LongOrFirst(params string[] keys) => GetValue<long>(keys, e => e.ValueKind == JsonValueKind.Array
        ? (e.GetArrayLength() > 0 ? e[0].GetInt64() : null)
        : e.GetInt64());

    private T? GetValue<T>(string[] keys, Func<JsonElement, T?> read)
        where T : struct
    {
        JsonElement? e = Find(keys);
        if (e is null)
        {
            return null;
        }

        try
        {
            return read(e.Value);
        }
        catch (Exception ex) when (ex is InvalidOperationException or FormatException)
        {
            throw new CheckpointException($"{Source}: '{keys[0]}' has the wrong type ({e.Value.ValueKind})", ex);
        }
    }

    private string? GetString(string[] keys)
    {
        JsonElement? e = Find(keys);
        if (e is null)
        {
            return null;
        }

        if (e.Value.ValueKind != JsonValueKind.String)
        {
            throw new CheckpointException($"{Source}: '{keys[0]}' must be a string");
        }

        return e.Value.GetString();
    }

    private CheckpointException Missing(string[] keys) =>
        new($"{Source}: missing required key '{keys[0]}'" + (keys.Length > 1 ? $" (or {string.Join(", ", keys.Skip(1).Select(k => $"'{k}'"))})" : string.Empty));
}
