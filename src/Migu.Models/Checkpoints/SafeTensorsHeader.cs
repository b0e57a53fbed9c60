using System.Buffers.Binary;
using System.Text.Json;
using static TorchSharp.torch;

namespace Migu.Models.Checkpoints;

/// <summary>One tensor as a safetensors header declares it; offsets count from the start of the data section.</summary>
public sealed record SafeTensorsEntry(string Name, ScalarType DType, IReadOnlyList<long> Shape, long Begin, long End)
{
    public long ByteLength => End - Begin;
}

/// <summary>
/// The header of a safetensors file (8-byte little-endian length, a JSON object, then the data),
/// validated completely before anything is allocated for its tensors: the length is bounded and
/// inside the file; the JSON is an object of tensors plus an optional <c>__metadata__</c> string
/// map; every dtype is known; shapes are non-negative and their byte size does not overflow and
/// equals the tensor's byte range; ranges lie inside the data section and, in offset order, tile
/// it exactly (no overlap, no gap, nothing after the last), as the reference implementation
/// requires. Every refusal is one <see cref="CheckpointException"/> line naming the file and tensor.
/// </summary>
public sealed class SafeTensorsHeader
{
    /// <summary>The reference implementation's limit on the JSON header.</summary>
    public const long MaxHeaderBytes = 100_000_000;

    /// <summary>More dimensions than any real checkpoint has; libtorch's own limit is not much higher.</summary>
    public const int MaxRank = 32;

    private const string MetadataKey = "__metadata__";

    // dtype name → (scalar type, bytes per element); null type: a dtype of the format that libtorch here cannot hold.
    private static readonly Dictionary<string, (ScalarType? Type, int Size)> DTypes = new(StringComparer.Ordinal)
    {
        ["BOOL"] = (ScalarType.Bool, 1),
        ["U8"] = (ScalarType.Byte, 1),
        ["I8"] = (ScalarType.Int8, 1),
        ["I16"] = (ScalarType.Int16, 2),
        ["I32"] = (ScalarType.Int32, 4),
        ["I64"] = (ScalarType.Int64, 8),
        ["F16"] = (ScalarType.Float16, 2),
        ["BF16"] = (ScalarType.BFloat16, 2),
        ["F32"] = (ScalarType.Float32, 4),
        ["F64"] = (ScalarType.Float64, 8),
        ["U16"] = (null, 2),
        ["U32"] = (null, 4),
        ["U64"] = (null, 8),
        ["F8_E4M3"] = (null, 1),
        ["F8_E5M2"] = (null, 1),
        ["F8_E8M0"] = (null, 1),
        ["C64"] = (null, 8),
    };

    private SafeTensorsHeader(string path, long dataStart, List<SafeTensorsEntry> tensors, Dictionary<string, string> metadata)
    {
        Path = path;
        DataStart = dataStart;
        Tensors = tensors;
        Metadata = metadata;
    }

    /// <summary>The file, for messages.</summary>
    public string Path { get; }

    /// <summary>Where the data section starts: 8 + the header length.</summary>
    public long DataStart { get; }

    /// <summary>The tensors in file order.</summary>
    public IReadOnlyList<SafeTensorsEntry> Tensors { get; }

    public IReadOnlyDictionary<string, string> Metadata { get; }

    /// <summary>Reads and validates the header of <paramref name="path"/>.</summary>
    public static SafeTensorsHeader Read(string path)
    {
        using FileStream stream = Open(path);
        return Read(stream, path);
    }

    /// <summary>All tensors of <paramref name="path"/>, by name, on the CPU, after the header has been validated.</summary>
    public static Dictionary<string, Tensor> Load(string path)
    {
        using FileStream stream = Open(path);
        return Read(stream, path).ReadTensors(stream);
    }

    /// <summary>Validates the header at the start of <paramref name="stream"/>, whose length is the file's.</summary>
    public static SafeTensorsHeader Read(Stream stream, string path)
    {
        ArgumentNullException.ThrowIfNull(stream);
        long fileLength = stream.Length;
        if (fileLength < 8)
        {
            throw Refuse(path, $"{fileLength} bytes, too short for the 8-byte header length");
        }

        Span<byte> prefix = stackalloc byte[8];
        stream.Position = 0;
        stream.ReadExactly(prefix);
        ulong headerLength = BinaryPrimitives.ReadUInt64LittleEndian(prefix);
        if (headerLength < 2 || headerLength > MaxHeaderBytes)
        {
            throw Refuse(path, $"header length {headerLength} is not between 2 and {MaxHeaderBytes} bytes");
        }

        if ((long)headerLength > fileLength - 8)
        {
            throw Refuse(path, $"header length {headerLength} runs past the end of the file ({fileLength} bytes)");
        }

        byte[] json = new byte[headerLength];
        stream.ReadExactly(json);
        long dataStart = 8 + (long)headerLength;
        var (tensors, metadata) = ParseHeader(json, path);
        CheckTiling(tensors, fileLength - dataStart, path);
        return new SafeTensorsHeader(path, dataStart, tensors, metadata);
    }

    /// <summary>Allocates and fills each tensor from <paramref name="stream"/>; its sizes were checked against the file already.</summary>
    public Dictionary<string, Tensor> ReadTensors(Stream stream)
    {
        ArgumentNullException.ThrowIfNull(stream);
        var result = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        try
        {
            foreach (SafeTensorsEntry entry in Tensors)
            {
                Tensor t = empty([.. entry.Shape], entry.DType);
                result.Add(entry.Name, t);
                if (entry.ByteLength > 0)
                {
                    stream.Position = DataStart + entry.Begin;
                    t.ReadBytesFromStream(stream, (int)Math.Min(entry.ByteLength, 1 << 20));
                }
            }
        }
        catch (Exception e)
        {
            foreach (Tensor t in result.Values)
            {
                t.Dispose();
            }

            if (e is IOException)
            {
                throw new CheckpointException($"{Path}: cannot read the tensor data ({e.Message})", e);
            }

            throw;
        }

        return result;
    }

    private static FileStream Open(string path)
    {
        try
        {
            return new FileStream(path, FileMode.Open, FileAccess.Read, FileShare.Read, bufferSize: 1 << 16);
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            throw new CheckpointException($"{path}: cannot open ({e.Message})", e);
        }
    }

    private static (List<SafeTensorsEntry> Tensors, Dictionary<string, string> Metadata) ParseHeader(byte[] json, string path)
    {
        JsonDocument document;
        try
        {
            document = JsonDocument.Parse(json);
        }
        catch (JsonException e)
        {
            throw Refuse(path, $"the header is not valid JSON ({e.Message})");
        }

        using (document)
        {
            JsonElement root = document.RootElement;
            if (root.ValueKind != JsonValueKind.Object)
            {
                throw Refuse(path, $"the header is a JSON {root.ValueKind.ToString().ToLowerInvariant()}, not an object");
            }

            var tensors = new List<SafeTensorsEntry>();
            var metadata = new Dictionary<string, string>(StringComparer.Ordinal);
            var names = new HashSet<string>(StringComparer.Ordinal);
            bool sawMetadata = false;
            foreach (JsonProperty property in root.EnumerateObject())
            {
                string name = Text(() => property.Name, path, "a tensor name");
                if (name == MetadataKey)
                {
                    if (sawMetadata)
                    {
                        throw Refuse(path, $"'{MetadataKey}' appears twice");
                    }

                    sawMetadata = true;
                    ReadMetadata(property.Value, metadata, path);
                    continue;
                }

                if (!names.Add(name))
                {
                    throw Refuse(path, $"tensor '{name}' is listed twice");
                }

                tensors.Add(ReadEntry(name, property.Value, path));
            }

            tensors.Sort((a, b) => a.Begin != b.Begin ? a.Begin.CompareTo(b.Begin) : a.End.CompareTo(b.End));
            return (tensors, metadata);
        }
    }

    private static void ReadMetadata(JsonElement value, Dictionary<string, string> metadata, string path)
    {
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Refuse(path, $"'{MetadataKey}' must be an object of strings");
        }

        foreach (JsonProperty p in value.EnumerateObject())
        {
            string key = Text(() => p.Name, path, $"a '{MetadataKey}' key");
            if (p.Value.ValueKind != JsonValueKind.String)
            {
                throw Refuse(path, $"'{MetadataKey}.{key}' must be a string");
            }

            metadata[key] = Text(() => p.Value.GetString()!, path, $"'{MetadataKey}.{key}'");
        }
    }

    private static SafeTensorsEntry ReadEntry(string name, JsonElement value, string path)
    {
        string where = $"tensor '{name}'";
        if (value.ValueKind != JsonValueKind.Object)
        {
            throw Refuse(path, $"{where} must be an object with dtype, shape and data_offsets");
        }

        if (!value.TryGetProperty("dtype", out JsonElement dtypeElement) || dtypeElement.ValueKind != JsonValueKind.String)
        {
            throw Refuse(path, $"{where} has no dtype string");
        }

        string dtypeName = Text(() => dtypeElement.GetString()!, path, $"{where}'s dtype");
        if (!DTypes.TryGetValue(dtypeName, out var dtype))
        {
            throw Refuse(path, $"{where} has unknown dtype '{dtypeName}'");
        }

        if (dtype.Type is not ScalarType type)
        {
            throw Refuse(path, $"{where} has dtype '{dtypeName}', which is not supported (BOOL, U8, I8, I16, I32, I64, F16, BF16, F32, F64)");
        }

        long[] shape = Integers(value, "shape", where, path);
        if (shape.Length > MaxRank)
        {
            throw Refuse(path, $"{where} has {shape.Length} dimensions (at most {MaxRank})");
        }

        long[] offsets = Integers(value, "data_offsets", where, path);
        if (offsets.Length != 2 || offsets[0] > offsets[1])
        {
            throw Refuse(path, $"{where}: data_offsets must be [begin, end] with begin ≤ end, got [{string.Join(", ", offsets)}]");
        }

        long bytes = dtype.Size;
        foreach (long dim in shape)
        {
            try
            {
                bytes = checked(bytes * dim);
            }
            catch (OverflowException)
            {
                throw Refuse(path, $"{where}: shape [{string.Join(", ", shape)}] is too large");
            }
        }

        if (bytes != offsets[1] - offsets[0])
        {
            throw Refuse(path, $"{where}: shape [{string.Join(", ", shape)}] of {dtypeName} is {bytes} bytes but data_offsets [{offsets[0]}, {offsets[1]}] hold {offsets[1] - offsets[0]}");
        }

        return new SafeTensorsEntry(name, type, shape, offsets[0], offsets[1]);
    }

    /// <summary>A list of non-negative integers under <paramref name="key"/>.</summary>
    private static long[] Integers(JsonElement entry, string key, string where, string path)
    {
        if (!entry.TryGetProperty(key, out JsonElement list) || list.ValueKind != JsonValueKind.Array)
        {
            throw Refuse(path, $"{where} has no {key} list");
        }

        if (list.GetArrayLength() > MaxRank)
        {
            throw Refuse(path, $"{where}: {key} has {list.GetArrayLength()} entries");
        }

        var values = new long[list.GetArrayLength()];
        int i = 0;
        foreach (JsonElement item in list.EnumerateArray())
        {
            if (item.ValueKind != JsonValueKind.Number || !item.TryGetInt64(out long v) || v < 0)
            {
                throw Refuse(path, $"{where}: {key} must hold non-negative integers, got {item.GetRawText()}");
            }

            values[i++] = v;
        }

        return values;
    }

    /// <summary>In offset order the ranges must cover [0, dataLength) exactly once.</summary>
    private static void CheckTiling(List<SafeTensorsEntry> tensors, long dataLength, string path)
    {
        long next = 0;
        SafeTensorsEntry? previous = null;
        foreach (SafeTensorsEntry t in tensors)
        {
            if (t.End > dataLength)
            {
                throw Refuse(path, $"tensor '{t.Name}' ends at byte {t.End} of a {dataLength}-byte data section");
            }

            if (t.Begin < next)
            {
                throw Refuse(path, $"tensor '{t.Name}' overlaps '{previous!.Name}' (bytes {t.Begin}–{t.End} and {previous.Begin}–{previous.End})");
            }

            if (t.Begin > next)
            {
                throw Refuse(path, $"tensor '{t.Name}' starts at byte {t.Begin}, leaving bytes {next}–{t.Begin} of the data section unused");
            }

            next = t.End;
            previous = t;
        }

        if (next != dataLength)
        {
            throw Refuse(path, $"the tensors end at byte {next} of a {dataLength}-byte data section (truncated header or trailing data)");
        }
    }

    // The parser checks structure, not the bytes inside strings; decoding them is where bad UTF-8 shows.
    private static string Text(Func<string> read, string path, string what)
    {
        try
        {
            return read();
        }
        catch (InvalidOperationException e)
        {
            throw new CheckpointException($"{path}: not a valid safetensors file: {what} is not valid UTF-8", e);
        }
    }

    private static CheckpointException Refuse(string path, string why) => new($"{path}: not a valid safetensors file: {why}");
}
