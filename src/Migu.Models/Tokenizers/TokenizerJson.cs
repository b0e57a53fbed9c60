using System.Text;
using System.Text.Json;
using Migu.Core;

namespace Migu.Models.Tokenizers;

/// <summary>Reads the parts of a Hugging Face tokenizer.json that every loader needs: added tokens and the post-processor's ids.</summary>
internal static class TokenizerJson
{
    public static JsonElement Parse(string path)
    {
        try
        {
            using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(path));
            return doc.RootElement.Clone();
        }
        catch (JsonException e)
        {
            throw new MiguUserException($"{path}: not valid JSON ({e.Message}).", e);
        }
    }

    public static List<AddedToken> AddedTokens(JsonElement root)
    {
        var tokens = new List<AddedToken>();
        if (root.TryGetProperty("added_tokens", out JsonElement list) && list.ValueKind == JsonValueKind.Array)
        {
            foreach (JsonElement t in list.EnumerateArray())
            {
                tokens.Add(new AddedToken(
                    t.GetProperty("id").GetInt32(),
                    t.GetProperty("content").GetString() ?? "",
                    Flag(t, "special"),
                    Flag(t, "lstrip"),
                    Flag(t, "rstrip"),
                    Flag(t, "single_word")));
            }
        }

        return tokens;
    }

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

    private static void AddPostProcessor(JsonElement post, List<int> prefix, List<int> suffix, string path)
    {
        string type = post.GetProperty("type").GetString() ?? "";
        switch (type)
        {
            case "ByteLevel":
                break; // offsets only
            case "Sequence":
                foreach (JsonElement p in post.GetProperty("processors").EnumerateArray())
                {
                    AddPostProcessor(p, prefix, suffix, path);
                }

                break;
            case "RobertaProcessing":
            case "BertProcessing":
                prefix.Add(post.GetProperty("cls")[1].GetInt32());
                suffix.Add(post.GetProperty("sep")[1].GetInt32());
                break;
            case "TemplateProcessing":
                bool seenSequence = false;
                JsonElement specials = post.GetProperty("special_tokens");
                foreach (JsonElement item in post.GetProperty("single").EnumerateArray())
                {
                    if (item.TryGetProperty("Sequence", out _))
                    {
                        seenSequence = true;
                        continue;
                    }

                    string id = item.GetProperty("SpecialToken").GetProperty("id").GetString() ?? "";
                    if (!specials.TryGetProperty(id, out JsonElement special))
                    {
                        throw new MiguUserException($"{path}: post_processor names special token '{id}' that it does not define.");
                    }

                    foreach (JsonElement v in special.GetProperty("ids").EnumerateArray())
                    {
                        (seenSequence ? suffix : prefix).Add(v.GetInt32());
                    }
                }

                break;
            default:
                throw new MiguUserException($"{path}: post_processor type '{type}' is not supported.");
        }
    }

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
        string type = n.GetProperty("type").GetString() ?? "";
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
                Func<string, string>[] steps = [.. n.GetProperty("normalizers").EnumerateArray().Select(x => NormalizerOf(x, path))];
                return s => steps.Aggregate(s, (current, step) => step(current));
            default:
                throw new MiguUserException($"{path}: normalizer type '{type}' is not supported for byte-level BPE.");
        }
    }

    private static bool Flag(JsonElement e, string name) =>
        e.TryGetProperty(name, out JsonElement v) && v.ValueKind == JsonValueKind.True;
}
