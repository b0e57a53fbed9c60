using System.Text.Json;
using Migu.Core;

namespace Migu.Models.Tokenizers;

/// <summary>
/// tokenizer_config.json merged with special_tokens_map.json (the config wins): which strings are the
/// bos/eos/pad/unk… tokens and the flags that change encoding (add_bos_token, legacy, …).
/// A token may be written as a string or as an object with "content" (and lstrip/rstrip flags).
/// </summary>
internal sealed class TokenizerConfig
{
    // Each value with the file it came from, for messages.
    private readonly Dictionary<string, (JsonElement Value, string Source)> _values = new(StringComparer.Ordinal);

    public static TokenizerConfig Read(string directory)
    {
        var config = new TokenizerConfig();
        foreach (string name in new[] { "special_tokens_map.json", "tokenizer_config.json" })
        {
            string path = Path.Combine(directory, name);
            if (!File.Exists(path))
            {
                continue;
            }

            JsonElement root = TokenizerJson.Parse(path);
            foreach (JsonProperty p in root.EnumerateObject())
            {
                config._values[p.Name] = (p.Value, path);
            }
        }

        return config;
    }

    /// <summary>A config given as JSON (an embedded tokenizer's tokenizer_config.json).</summary>
    public static TokenizerConfig FromJson(JsonElement root)
    {
        var config = new TokenizerConfig();
        foreach (JsonProperty p in root.EnumerateObject())
        {
            config._values[p.Name] = (p.Value, "tokenizer_config.json");
        }

        return config;
    }

    /// <summary>The text of a special token entry such as "bos_token"; null when absent or null.</summary>
    public string? Token(string key)
    {
        if (!_values.TryGetValue(key, out var entry))
        {
            return null;
        }

        var (v, source) = entry;
        return v.ValueKind switch
        {
            JsonValueKind.String => TokenizerJson.Text(v, source, key),
            JsonValueKind.Object when v.TryGetProperty("content", out JsonElement c) => TokenizerJson.Text(c, source, $"{key}.content"),
            _ => null,
        };
    }

    /// <summary>A special token entry's flag (lstrip, rstrip, single_word), false when not written.</summary>
    public bool TokenFlag(string key, string flag) =>
        _values.TryGetValue(key, out var entry) && entry.Value.ValueKind == JsonValueKind.Object
        && entry.Value.TryGetProperty(flag, out JsonElement f) && f.ValueKind == JsonValueKind.True;

    public bool? Bool(string key) =>
        _values.TryGetValue(key, out var entry) && entry.Value.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? entry.Value.GetBoolean()
            : null;

    /// <summary>A count such as extra_ids: an integer in [0, <paramref name="max"/>], or null when absent.</summary>
    public int? Count(string key, int max)
    {
        if (!_values.TryGetValue(key, out var entry) || entry.Value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        return entry.Value.ValueKind == JsonValueKind.Number && entry.Value.TryGetInt32(out int n) && n >= 0 && n <= max
            ? n
            : throw new MiguUserException($"{entry.Source}: '{key}' must be an integer from 0 to {max}, found {TokenizerJson.Kind(entry.Value)}.");
    }

    /// <summary>
    /// A length limit such as model_max_length: a positive integer, or null when absent or larger
    /// than any real limit (transformers writes 1e30 for "no limit").
    /// </summary>
    public int? Limit(string key)
    {
        if (!_values.TryGetValue(key, out var entry) || entry.Value.ValueKind == JsonValueKind.Null)
        {
            return null;
        }

        if (entry.Value.ValueKind != JsonValueKind.Number || !entry.Value.TryGetDouble(out double value) || value <= 0 || value != Math.Floor(value))
        {
            throw new MiguUserException($"{entry.Source}: '{key}' must be a positive integer, found {TokenizerJson.Kind(entry.Value)}.");
        }

        return value < int.MaxValue ? (int)value : null;
    }
}
