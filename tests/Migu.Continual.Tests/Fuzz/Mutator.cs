using System.Buffers.Binary;
using System.Globalization;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using System.Text.RegularExpressions;
using Migu.Continual.Data;

namespace Migu.Continual.Tests.Fuzz;

/// <summary>What a fuzzed file is, which decides the mutations that reach past its first parser.</summary>
internal enum FileKind
{
    /// <summary>A JSON document: structure-aware mutations most of the time.</summary>
    Json,

    /// <summary>Lines of text (merges.txt) or JSON Lines: line-aware mutations, each line's JSON too.</summary>
    Lines,

    /// <summary>A binary file (protobuf): bytes and huge varints.</summary>
    Binary,

    /// <summary>A safetensors file: its header's JSON and length as well as its bytes.</summary>
    SafeTensors,
}

/// <summary>
/// Seeded mutations of a file: bit flips, truncation, splices (from the file itself or another
/// fixture), deleted and overwritten runs, numeric extremes in place of numbers, and JSON-aware
/// edits (a node removed, replaced, duplicated, renamed, nested deeper; a known key set to an
/// extreme). The same seed gives the same bytes and description on every machine.
/// </summary>
internal sealed partial class Mutator
{
    private static readonly string[] Extremes =
    [
        "0", "-1", "1", "2", "255", "256", "65535", "65536", "2147483647", "2147483648", "-2147483649",
        "4294967296", "1099511627776", "9007199254740993", "9223372036854775807", "9223372036854775808",
        "-9223372036854775808", "100000000000000000000", "1e308", "1e309", "-1e309", "0.5", "-0.0", "1e-320", "3.0", "1E3",
    ];

    private static readonly string[] Values =
    [
        "null", "true", "false", "\"\"", "\"x\"", "\"-1\"", "\"1e999\"", "\"NaN\"", "\"../../etc/passwd\"", "\"\\u0000\"",
        "[]", "{}", "[1, 2, 3]", "[\"a\", \"b\"]", "{\"a\": 1}", "[[0, 1], [1, 0]]", "{\"type\": \"Sequence\"}",
    ];

    private readonly SplitMix64 random;
    private readonly IReadOnlyList<byte[]> donors;

    /// <param name="seed">Everything below follows from it.</param>
    /// <param name="donors">Other fixture files that splices may take bytes from.</param>
    public Mutator(ulong seed, IReadOnlyList<byte[]> donors)
    {
        random = new SplitMix64(seed);
        this.donors = donors;
    }

    /// <summary>A mutated copy of <paramref name="original"/> and a short description of what was done.</summary>
    public (byte[] Bytes, string What) Mutate(byte[] original, FileKind kind)
    {
        int roll = Next(100);
        return kind switch
        {
            FileKind.Json when roll < 60 => Json(original),
            FileKind.Json when roll < 75 => NumericExtreme(original),
            FileKind.Lines when roll < 35 => Line(original),
            FileKind.Lines when roll < 50 => NumericExtreme(original),
            FileKind.Binary when roll < 20 => HugeVarint(original),
            FileKind.SafeTensors when roll < 45 => SafeTensorsHeader(original, h => Json(h)),
            FileKind.SafeTensors when roll < 60 => SafeTensorsHeader(original, NumericExtreme),
            FileKind.SafeTensors when roll < 70 => HeaderLength(original),
            _ => Bytes(original),
        };
    }

    private int Next(int exclusiveMax) => random.NextInt(exclusiveMax);

    private T Pick<T>(IReadOnlyList<T> items) => items[Next(items.Count)];

    private (byte[], string) Bytes(byte[] data)
    {
        if (data.Length == 0)
        {
            return ([(byte)Next(256)], "one random byte");
        }

        switch (Next(6))
        {
            case 0:
            {
                byte[] copy = [.. data];
                int flips = 1 + Next(8);
                for (int i = 0; i < flips; i++)
                {
                    copy[Next(copy.Length)] ^= (byte)(1 << Next(8));
                }

                return (copy, $"{flips} bit flips");
            }

            case 1:
            {
                int length = Next(data.Length);
                return (data[..length], $"truncated to {length} bytes");
            }

            case 2:
            {
                byte[] source = Next(3) == 0 && donors.Count > 0 ? Pick(donors) : data;
                int from = Next(Math.Max(1, source.Length));
                int length = Math.Min(source.Length - from, 1 + Next(256));
                int at = Next(data.Length + 1);
                byte[] spliced = [.. data[..at], .. source.AsSpan(from, Math.Max(0, length)), .. data[at..]];
                return (spliced, $"{length} bytes spliced in at {at}{(ReferenceEquals(source, data) ? string.Empty : " from another fixture")}");
            }

            case 3:
            {
                int at = Next(data.Length);
                int length = Math.Min(data.Length - at, 1 + Next(64));
                return ([.. data[..at], .. data[(at + length)..]], $"{length} bytes deleted at {at}");
            }

            case 4:
            {
                byte[] copy = [.. data];
                int at = Next(copy.Length);
                int length = Math.Min(copy.Length - at, 1 + Next(16));
                byte fill = Pick(new byte[] { 0x00, 0xFF, 0x7F, 0x80, (byte)'"', (byte)'{', (byte)'9' });
                copy.AsSpan(at, length).Fill(fill);
                return (copy, $"{length} bytes at {at} set to 0x{fill:X2}");
            }

            default:
            {
                int at = Next(data.Length);
                int length = Math.Min(data.Length - at, 1 + Next(512));
                int times = 2 + Next(20);
                byte[] chunk = data[at..(at + length)];
                return ([.. data[..at], .. Enumerable.Repeat(chunk, times).SelectMany(c => c), .. data[(at + length)..]], $"{length} bytes at {at} repeated {times} times");
            }
        }
    }

    private (byte[], string) NumericExtreme(byte[] data)
    {
        string text = Encoding.UTF8.GetString(data);
        MatchCollection numbers = NumberPattern().Matches(text);
        if (numbers.Count == 0)
        {
            return Bytes(data);
        }

        Match m = numbers[Next(numbers.Count)];
        string extreme = Pick(Extremes);
        return (Encoding.UTF8.GetBytes(text[..m.Index] + extreme + text[(m.Index + m.Length)..]), $"number '{m.Value}' at {m.Index} → {extreme}");
    }

    private (byte[], string) Line(byte[] data)
    {
        string text = Encoding.UTF8.GetString(data);
        List<string> lines = [.. text.Split('\n')];
        int i = Next(lines.Count);
        string what;
        switch (Next(5))
        {
            case 0:
                lines.RemoveAt(i);
                what = $"line {i + 1} deleted";
                break;
            case 1:
                int times = 1 + Next(50);
                lines.InsertRange(i, Enumerable.Repeat(lines[i], times));
                what = $"line {i + 1} repeated {times} more times";
                break;
            case 2:
                int j = Next(lines.Count);
                (lines[i], lines[j]) = (lines[j], lines[i]);
                what = $"lines {i + 1} and {j + 1} swapped";
                break;
            case 3:
                string added = Pick(new[] { string.Empty, " ", "a", "a b c", "#version: 0.2", "\t", "Ġ Ġ", "{}", "[]", "null", "\"x\"" });
                lines.Insert(i, added);
                what = $"line '{added}' inserted at {i + 1}";
                break;
            default:
                var (bytes, inner) = Json(Encoding.UTF8.GetBytes(lines[i]));
                lines[i] = Encoding.UTF8.GetString(bytes);
                what = $"line {i + 1}: {inner}";
                break;
        }

        return (Encoding.UTF8.GetBytes(string.Join('\n', lines)), what);
    }

    private (byte[], string) Json(byte[] data)
    {
        JsonNode? root;
        try
        {
            root = JsonNode.Parse(data, documentOptions: new JsonDocumentOptions { MaxDepth = 256 });
        }
        catch (JsonException)
        {
            return Bytes(data);
        }

        if (root is null)
        {
            return (Encoding.UTF8.GetBytes(Pick(Values)), "null document replaced");
        }

        var nodes = new List<(JsonNode Node, string Path)>();
        var keys = new HashSet<string>(StringComparer.Ordinal);
        Collect(root, "$", nodes, keys);
        var (node, path) = Pick(nodes);
        string what;
        switch (Next(9))
        {
            case 0 when node.Parent is not null:
                Remove(node);
                what = $"{path} removed";
                break;
            case 1:
                string value = Pick(Values);
                root = Replace(root, node, JsonNode.Parse(value));
                what = $"{path} = {value}";
                break;
            case 2:
                string extreme = Pick(Extremes);
                root = Replace(root, node, JsonNode.Parse(extreme));
                what = $"{path} = {extreme}";
                break;
            case 3 when node is JsonArray array && array.Count > 0:
                int times = 1 + Next(2000);
                JsonNode item = array[Next(array.Count)]!;
                for (int i = 0; i < times; i++)
                {
                    array.Add(item.DeepClone());
                }

                what = $"{path}: an item appended {times} times";
                break;
            case 4 when keys.Count > 0 && nodes.Any(n => n.Node is JsonObject):
                // A key the file uses somewhere, set on some object: reaches the fields a parser reads.
                var (target, targetPath) = Pick(nodes.Where(n => n.Node is JsonObject).ToList());
                string key = Pick(keys.Order(StringComparer.Ordinal).ToList());
                string set = Next(2) == 0 ? Pick(Extremes) : Pick(Values);
                target[key] = JsonNode.Parse(set);
                what = $"{targetPath}.{key} = {set}";
                break;
            case 5 when node.Parent is JsonObject parent:
                string name = node.GetPropertyName();
                string renamed = Next(2) == 0 ? string.Empty : Pick(keys.Order(StringComparer.Ordinal).ToList());
                parent.Remove(name);
                if (!parent.ContainsKey(renamed))
                {
                    parent[renamed] = node;
                }

                what = $"{path} renamed '{renamed}'";
                break;
            case 6:
                int depth = 1 + Next(100);
                JsonNode wrapped = node.DeepClone();
                for (int i = 0; i < depth; i++)
                {
                    wrapped = new JsonArray(wrapped);
                }

                root = Replace(root, node, wrapped);
                what = $"{path} wrapped in {depth} arrays";
                break;
            case 7 when node is JsonValue v && v.TryGetValue(out JsonElement e) && e.ValueKind == JsonValueKind.Number:
                root = Replace(root, node, JsonValue.Create(e.GetRawText()));
                what = $"{path} turned into the string \"{e.GetRawText()}\"";
                break;
            case 8 when node is JsonValue s && s.TryGetValue(out string? str):
                string changed = Pick(new[] { string.Empty, str + str, str.ToUpperInvariant(), new string('a', 1 + Next(20000)), str + "\u0000", "\ud800" });
                root = Replace(root, node, JsonValue.Create(changed));
                what = $"{path} string changed ({changed.Length} chars)";
                break;
            default:
                return Bytes(data);
        }

        try
        {
            return (Encoding.UTF8.GetBytes(root is null ? "null" : root.ToJsonString()), what);
        }
        catch (Exception e) when (e is InvalidOperationException or ArgumentException or EncoderFallbackException)
        {
            return Bytes(data); // a mutation System.Text.Json will not write (e.g. a lone surrogate)
        }
    }

    private static void Collect(JsonNode node, string path, List<(JsonNode, string)> nodes, HashSet<string> keys)
    {
        nodes.Add((node, path));
        if (node is JsonObject o)
        {
            foreach (var (key, child) in o)
            {
                keys.Add(key);
                if (child is not null)
                {
                    Collect(child, $"{path}.{key}", nodes, keys);
                }
            }
        }
        else if (node is JsonArray a)
        {
            for (int i = 0; i < a.Count; i++)
            {
                if (a[i] is JsonNode child)
                {
                    Collect(child, $"{path}[{i}]", nodes, keys);
                }
            }
        }
    }

    private static void Remove(JsonNode node)
    {
        switch (node.Parent)
        {
            case JsonObject o:
                o.Remove(node.GetPropertyName());
                break;
            case JsonArray a:
                a.RemoveAt(node.GetElementIndex());
                break;
        }
    }

    /// <summary>Puts <paramref name="replacement"/> where <paramref name="node"/> is; returns the (possibly new) root.</summary>
    private static JsonNode? Replace(JsonNode root, JsonNode node, JsonNode? replacement)
    {
        switch (node.Parent)
        {
            case JsonObject o:
                o[node.GetPropertyName()] = replacement;
                return root;
            case JsonArray a:
                a[node.GetElementIndex()] = replacement;
                return root;
            default:
                return replacement;
        }
    }

    /// <summary>A protobuf varint of 2^63 or more put at a random place: lengths and counts beyond any file.</summary>
    private (byte[], string) HugeVarint(byte[] data)
    {
        int at = Next(data.Length + 1);
        byte[] varint = Next(2) == 0
            ? [0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0xFF, 0x01]
            : [0xFF, 0xFF, 0xFF, 0xFF, 0x07];
        bool overwrite = Next(2) == 0 && at + varint.Length <= data.Length;
        byte[] result = overwrite
            ? [.. data[..at], .. varint, .. data[(at + varint.Length)..]]
            : [.. data[..at], .. varint, .. data[at..]];
        return (result, $"a {varint.Length}-byte varint {(overwrite ? "written" : "inserted")} at {at}");
    }

    private (byte[], string) SafeTensorsHeader(byte[] file, Func<byte[], (byte[], string)> mutateHeader)
    {
        if (file.Length < 8)
        {
            return Bytes(file);
        }

        ulong length = BinaryPrimitives.ReadUInt64LittleEndian(file);
        if (length > (ulong)(file.Length - 8))
        {
            return Bytes(file);
        }

        byte[] header = file[8..(8 + (int)length)];
        var (mutated, what) = mutateHeader(header);
        byte[] prefix = new byte[8];
        BinaryPrimitives.WriteUInt64LittleEndian(prefix, (ulong)mutated.Length);
        return ([.. prefix, .. mutated, .. file[(8 + (int)length)..]], "header: " + what);
    }

    private (byte[], string) HeaderLength(byte[] file)
    {
        if (file.Length < 8)
        {
            return Bytes(file);
        }

        ulong old = BinaryPrimitives.ReadUInt64LittleEndian(file);
        ulong[] choices = [0, 1, 2, old - 1, old + 1, (ulong)file.Length, (ulong)file.Length - 8, 100_000_001, 1UL << 40, ulong.MaxValue, long.MaxValue];
        ulong value = Pick(choices);
        byte[] copy = [.. file];
        BinaryPrimitives.WriteUInt64LittleEndian(copy, value);
        return (copy, $"header length {old} → {value.ToString(CultureInfo.InvariantCulture)}");
    }

    [GeneratedRegex(@"-?\d+(\.\d+)?([eE][+-]?\d+)?", RegexOptions.CultureInvariant)]
    private static partial Regex NumberPattern();
}
