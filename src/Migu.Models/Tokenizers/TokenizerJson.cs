using System.Text;
using System.Text.Json;
using Migu.Core;

namespace Migu.Models.Tokenizers;

/// <summary>Reads the parts of a Hugging Face tokenizer.json that every loader needs: added tokens and the post-processor's ids.</summary>
internal static class TokenizerJson
{
    /// <summary>The file's JSON object; not UTF-8, not JSON or not an object is a user error naming the file.</summary>
    public static JsonElement Parse(string path)
    {
        byte[] bytes = File.ReadAllBytes(path);
        // JSON is UTF-8 (RFC 8259); checking it once here spares every name and string read below.
        if (!System.Text.Unicode.Utf8.IsValid(bytes))
        {
            throw new MiguUserException($"{path}: not valid UTF-8 text.");
        }

        JsonElement root;
        try
        {
            using JsonDocument doc = JsonDocument.Parse(bytes);
            root = doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new MiguUserException($"{path}: not valid JSON ({e.Message}).", e);
        }

        return root.ValueKind == JsonValueKind.Object
            ? root
            : throw new MiguUserException($"{path}: expected a JSON object, found {Kind(root)}.");
    }

    public static List<AddedToken> AddedTokens(JsonElement root, string path)
    {
        var tokens = new List<AddedToken>();
        if (root.TryGetProperty("added_tokens", out JsonElement list) && list.ValueKind == JsonValueKind.Array)
        {
            int i = 0;
            foreach (JsonElement t in list.EnumerateArray())
            {
                string where = $"added_tokens[{i++}]";
                tokens.Add(new AddedToken(
                    Id(Property(t, "id", path, where), path, $"{where}.id"),
                    Text(Property(t, "content", path, where), path, $"{where}.content"),
                    Flag(t, "special"),
                    Flag(t, "lstrip"),
                    Flag(t, "rstrip"),
                    Flag(t, "single_word")));
            }
        }

        return tokens;
    }

    /// <summary>The largest token id accepted: far above any vocabulary, low enough that tables indexed by id stay small.</summary>
    public const int MaxId = (1 << 24) - 1;

    /// <summary><paramref name="where"/>'s member <paramref name="name"/>; a missing member or a non-object is a user error naming both.</summary>
    public static JsonElement Property(JsonElement element, string name, string path, string where)
    {
        if (element.ValueKind != JsonValueKind.Object)
        {
            throw new MiguUserException($"{path}: {where} must be an object, found {Kind(element)}.");
        }

        return element.TryGetProperty(name, out JsonElement value)
            ? value
            : throw new MiguUserException($"{path}: {where} has no \"{name}\".");
    }

    /// <summary>A token id: an integer in [0, <see cref="MaxId"/>].</summary>
    public static int Id(JsonElement element, string path, string where) =>
        element.ValueKind == JsonValueKind.Number && element.TryGetInt32(out int id) && id is >= 0 and <= MaxId
            ? id
            : throw new MiguUserException($"{path}: {where} must be a token id (an integer from 0 to {MaxId}), found {Kind(element)}.");

    /// <summary>A string, decoded; bad UTF-8 inside it is a user error too.</summary>
    public static string Text(JsonElement element, string path, string where)
    {
        if (element.ValueKind != JsonValueKind.String)
        {
            throw new MiguUserException($"{path}: {where} must be a string, found {Kind(element)}.");
        }

        try
        {
            return element.GetString()!;
        }
        catch (InvalidOperationException e)
        {
            throw new MiguUserException($"{path}: {where} is not valid UTF-8 text.", e);
        }
    }

    /// <summary>An object member's name, decoded; an escape that is no text (a lone surrogate) is a user error naming the object.</summary>
    public static string Name(JsonProperty property, string path, string where)
    {
        try
        {
            return property.Name;
        }
        catch (InvalidOperationException e)
        {
            throw new MiguUserException($"{path}: a key of {where} is not valid text.", e);
        }
    }

    /// <summary>An array's items.</summary>
    public static JsonElement.ArrayEnumerator Items(JsonElement element, string path, string where) =>
        element.ValueKind == JsonValueKind.Array
            ? element.EnumerateArray()
            : throw new MiguUserException($"{path}: {where} must be a list, found {Kind(element)}.");

    /// <summary>"a number 3.5", "a string", … for messages (values are shortened; they come from the file).</summary>
    public static string Kind(JsonElement element) => element.ValueKind switch
    {
        JsonValueKind.Object => "an object",
        JsonValueKind.Array => "a list",
        JsonValueKind.String => "a string",
        JsonValueKind.Number => $"the number {Shorten(element.GetRawText())}",
        JsonValueKind.True or JsonValueKind.False => $"{element.GetRawText()}",
        _ => "null",
    };

    private static string Shorten(string text) => text.Length <= 24 ? text : text[..24] + "…";

    /// <summary>The ids the post-processor puts before and after a single sequence; null when there is none.</summary>
    public static (List<int> Prefix, List<int> Suffix)? PostProcessor(JsonElement root, string path)
    {
        if (!root.TryGetProperty("post_processor", out JsonElement post) || post.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        var prefix = new List<int>();
        var suffix = new List<int>();
        AddPostProcessor(post, prefix, suffix, path);
        return (prefix, suffix);
    }

    private static void AddPostProcessor(JsonElement post, List<int> prefix, List<int> suffix, string path, string where = "post_processor")
    {
        string type = Text(Property(post, "type", path, where), path, $"{where}.type");
        switch (type)
        {
            case "ByteLevel":
                break; // offsets only
            case "Sequence":
                int n = 0;
                foreach (JsonElement p in Items(Property(post, "processors", path, where), path, $"{where}.processors"))
                {
                    AddPostProcessor(p, prefix, suffix, path, $"{where}.processors[{n++}]");
                }

                break;
            case "RobertaProcessing":
            case "BertProcessing":
                prefix.Add(PairId(Property(post, "cls", path, where), path, $"{where}.cls"));
                suffix.Add(PairId(Property(post, "sep", path, where), path, $"{where}.sep"));
                break;
            case "TemplateProcessing":
                bool seenSequence = false;
                JsonElement specials = Property(post, "special_tokens", path, where);
                int i = 0;
                foreach (JsonElement item in Items(Property(post, "single", path, where), path, $"{where}.single"))
                {
                    string at = $"{where}.single[{i++}]";
                    if (item.ValueKind == JsonValueKind.Object && item.TryGetProperty("Sequence", out _))
                    {
                        seenSequence = true;
                        continue;
                    }

                    string id = Text(Property(Property(item, "SpecialToken", path, at), "id", path, $"{at}.SpecialToken"), path, $"{at}.SpecialToken.id");
                    if (specials.ValueKind != JsonValueKind.Object || !specials.TryGetProperty(id, out JsonElement special))
                    {
                        throw new MiguUserException($"{path}: post_processor names special token '{id}' that it does not define.");
                    }

                    foreach (JsonElement v in Items(Property(special, "ids", path, $"{where}.special_tokens.{id}"), path, $"{where}.special_tokens.{id}.ids"))
                    {
                        (seenSequence ? suffix : prefix).Add(Id(v, path, $"{where}.special_tokens.{id}.ids"));
                    }
                }

                break;
            default:
                throw new MiguUserException($"{path}: post_processor type '{type}' is not supported.");
        }
    }

    /// <summary>A [token, id] pair's id (RobertaProcessing's cls and sep).</summary>
    private static int PairId(JsonElement pair, string path, string where) =>
        pair.ValueKind == JsonValueKind.Array && pair.GetArrayLength() == 2
            ? Id(pair[1], path, $"{where}[1]")
            : throw new MiguUserException($"{path}: {where} must be a [token, id] pair, found {Kind(pair)}.");

    /// <summary>A unicode normalization step; null for none; throws for kinds we do not implement.</summary>
    public static Func<string, string>? Normalizer(JsonElement root, string path)
    {
        if (!root.TryGetProperty("normalizer", out JsonElement n) || n.ValueKind != JsonValueKind.Object)
        {
            return null;
        }

        return NormalizerOf(n, path);
    }

    private static Func<string, string> NormalizerOf(JsonElement n, string path)
    {
        string type = Text(Property(n, "type", path, "normalizer"), path, "normalizer.type");
        switch (type)
        {
            case "NFC":
                return s => s.Normalize(NormalizationForm.FormC);
            case "NFKC":
                return s => s.Normalize(NormalizationForm.FormKC);
            case "NFD":
                return s => s.Normalize(NormalizationForm.FormD);
            case "NFKD":
                return s => s.Normalize(NormalizationForm.FormKD);
            case "Lowercase":
                return s => s.ToLowerInvariant();
            case "Sequence":
                var steps = new List<Func<string, string>>();
                foreach (JsonElement x in Items(Property(n, "normalizers", path, "normalizer"), path, "normalizer.normalizers"))
                {
                    steps.Add(NormalizerOf(x, path));
                }

                return s => steps.Aggregate(s, (current, step) => step(current));
            default:
                throw new MiguUserException($"{path}: normalizer type '{type}' is not supported for byte-level BPE.");
        }
    }

    private static bool Flag(JsonElement e, string name) =>
        e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.True;
}
