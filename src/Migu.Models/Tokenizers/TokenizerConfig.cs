using System.Text.Json;

namespace Migu.Models.Tokenizers;

/// <summary>
/// tokenizer_config.json merged with special_tokens_map.json (the config wins): which strings are the
/// bos/eos/pad/unk… tokens and the flags that change encoding (add_bos_token, legacy, …).
/// A token may be written as a string or as an object with "content" (and lstrip/rstrip flags).
/// </summary>
internal sealed class TokenizerConfig
{
    private readonly Dictionary<string, JsonElement> _values = new(StringComparer.Ordinal);

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
            if (root.ValueKind != JsonValueKind.Object)
            {
                continue;
            }

            foreach (JsonProperty p in root.EnumerateObject())
            {
                config._values[p.Name] = p.Value;
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
            config._values[p.Name] = p.Value;
        }

        return config;
    }

    /// <summary>The text of a special token entry such as "bos_token"; null when absent or null.</summary>
    public string? Token(string key)
    {
        if (!_values.TryGetValue(key, out JsonElement v))
        {
            return null;
        }

        return v.ValueKind switch
        {
            JsonValueKind.String => v.GetString(),
            JsonValueKind.Object when v.TryGetProperty("content", out JsonElement c) => c.GetString(),
            _ => null,
        };
    }

    /// <summary>A special token entry's flag (lstrip, rstrip, single_word), false when not written.</summary>
    public bool TokenFlag(string key, string flag) =>
        _values.TryGetValue(key, out JsonElement v) && v.ValueKind == JsonValueKind.Object
        && v.TryGetProperty(flag, out JsonElement f) && f.ValueKind == JsonValueKind.True;

    public bool? Bool(string key) =>
        _values.TryGetValue(key, out JsonElement v) && v.ValueKind is JsonValueKind.True or JsonValueKind.False
            ? v.GetBoolean()
            : null;

    public int? Int(string key) =>
        _values.TryGetValue(key, out JsonElement v) && v.ValueKind == JsonValueKind.Number ? v.GetInt32() : null;
}
