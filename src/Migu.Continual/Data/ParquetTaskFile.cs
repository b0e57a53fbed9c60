using System.Numerics;
using System.Runtime.CompilerServices;
using System.Text.Json;
using Migu.Core;
using Parquet;
using Parquet.Schema;

namespace Migu.Continual.Data;

/// <summary>
/// A split in Parquet (Parquet.Net reads it; any compression and encoding it supports). The text
/// column must hold strings; the label column strings (the labels) or integers (class ids, as
/// Hugging Face datasets stores a ClassLabel). The class names of such a column come from
/// labels.json or, without one, from the features that datasets writes into the file's metadata
/// (key <c>huggingface</c>). Any other column type, a nested column or a null is an error naming
/// the column or the row (counted from 0, as datasets indexes rows).
/// </summary>
internal static class ParquetTaskFile
{
    private const string HuggingFaceMetadataKey = "huggingface";

    public static RawSplit Read(byte[] bytes, string file, TaskFields fields)
    {
        try
        {
            return ReadAsync(bytes, file, fields).GetAwaiter().GetResult();
        }
        catch (Exception e) when (e is not MiguUserException and not OutOfMemoryException)
        {
            // Parquet.Net reports a damaged or foreign file with whichever exception its decoder hits.
            throw new MiguUserException($"{file}: not a readable Parquet file ({e.Message.Split('\n')[0].Trim()})", e);
        }
    }

    private static async Task<RawSplit> ReadAsync(byte[] bytes, string file, TaskFields fields)
    {
        ParquetPages.CheckFooter(bytes, file);
        using var stream = new MemoryStream(bytes, writable: false);
        ParquetReader reader = await ParquetReader.CreateAsync(stream).ConfigureAwait(false);
        await using ConfiguredAsyncDisposable disposing = reader.ConfigureAwait(false);
        IReadOnlyList<Field> columns = reader.Schema.Fields;
        string? textName = fields.TextCandidates.FirstOrDefault(n => columns.Any(c => c.Name == n));
        Field? textColumn = textName is null ? null : columns.First(c => c.Name == textName);
        Field? labelColumn = columns.FirstOrDefault(c => c.Name == fields.LabelName);
        if (textColumn is null || labelColumn is null)
        {
            string missing = textColumn is null ? fields.MissingText : $"\"{fields.LabelName}\"";
            throw new MiguUserException($"{file}: no column {missing} (columns: {string.Join(", ", columns.Select(c => c.Name))})");
        }

        DataField text = Plain(textColumn, file, "text");
        if (!IsText(text.ClrType))
        {
            throw new MiguUserException($"{file}: column \"{text.Name}\" holds {TypeName(text.ClrType)}, not text");
        }

        DataField label = Plain(labelColumn, file, "text or integer class ids");
        bool labelIsText = IsText(label.ClrType);
        if (!labelIsText && !IsInteger(label.ClrType))
        {
            throw new MiguUserException($"{file}: column \"{label.Name}\" holds {TypeName(label.ClrType)}, not text or integer class ids");
        }

        var examples = new List<RawExample>();
        long row = 0;
        long rowLimit = MaxRows(bytes.Length);
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            using ParquetRowGroupReader group = reader.OpenRowGroupReader(g);
            // The count comes from the file's footer and sizes the arrays below: checked before they exist.
            if (group.RowCount < 0 || group.RowCount > rowLimit - row)
            {
                throw new MiguUserException(
                    $"{file}: row group {g} claims {group.RowCount} rows, more than a file of {bytes.Length} bytes holds ({rowLimit} rows at most, {RowsPerByte} a byte)");
            }

            int count = (int)group.RowCount;
            ParquetPages.CheckChunk(bytes, group.GetMetadata(text), rowLimit, file, text.Name);
            ParquetPages.CheckChunk(bytes, group.GetMetadata(label), rowLimit, file, label.Name);
            string?[] texts = await Strings(group, text, count).ConfigureAwait(false);
            string?[]? labels = labelIsText ? await Strings(group, label, count).ConfigureAwait(false) : null;
            long?[]? ids = labelIsText ? null : await Integers(group, label, count).ConfigureAwait(false);
            for (int i = 0; i < count; i++, row++)
            {
                string where = $"row {row}";
                string sentence = texts[i] ?? throw new MiguUserException($"{file}: {where}: \"{text.Name}\" is null");
                examples.Add(labels is not null
                    ? new RawExample(sentence, labels[i] ?? throw Null(file, where, label), 0, where)
                    : new RawExample(sentence, null, ids![i] ?? throw Null(file, where, label), where));
            }
        }

        return new RawSplit(file, examples, labelIsText ? null : ClassNames(reader.CustomMetadata, label.Name));
    }

    /// <summary>
    /// The most rows a file of <paramref name="length"/> bytes is taken to hold: <see cref="RowsPerByte"/>
    /// a byte (and not past what an array holds). A split whose texts are mostly distinct takes well
    /// over a byte a row however it is encoded or compressed; only a column of a few values repeated
    /// packs eight rows into a byte, and no classification split is that.
    /// </summary>
    private static long MaxRows(long length) => Math.Min(RowsPerByte * length, Array.MaxLength);

    private const long RowsPerByte = 8;

    private static MiguUserException Null(string file, string where, DataField column) => new($"{file}: {where}: \"{column.Name}\" is null");

    private static DataField Plain(Field column, string file, string expected) =>
        column is DataField { IsArray: false } data
            ? data
            : throw new MiguUserException($"{file}: column \"{column.Name}\" is {(column is DataField ? "a list" : $"a {column.SchemaType.ToString().ToLowerInvariant()}")}, not {expected}");

    private static async Task<string?[]> Strings(ParquetRowGroupReader group, DataField column, int count)
    {
        string?[] values = new string?[count];
        await group.ReadAsync(column, values.AsMemory()!).ConfigureAwait(false);
        return values;
    }

    private static Task<long?[]> Integers(ParquetRowGroupReader group, DataField column, int count)
    {
        Type t = column.ClrType;
        return t == typeof(long) ? Integers<long>(group, column, count)
            : t == typeof(int) ? Integers<int>(group, column, count)
            : t == typeof(short) ? Integers<short>(group, column, count)
            : t == typeof(sbyte) ? Integers<sbyte>(group, column, count)
            : t == typeof(ulong) ? Integers<ulong>(group, column, count)
            : t == typeof(uint) ? Integers<uint>(group, column, count)
            : t == typeof(ushort) ? Integers<ushort>(group, column, count)
            : Integers<byte>(group, column, count);
    }

    private static async Task<long?[]> Integers<T>(ParquetRowGroupReader group, DataField column, int count)
        where T : struct, IBinaryInteger<T>
    {
        if (column.IsNullable)
        {
            T?[] nullable = new T?[count];
            await group.ReadAsync(column, nullable.AsMemory()).ConfigureAwait(false);
            return [.. nullable.Select(v => v is T value ? long.CreateSaturating(value) : (long?)null)];
        }

        T[] values = new T[count];
        await group.ReadAsync(column, values.AsMemory()).ConfigureAwait(false);
        return [.. values.Select(v => (long?)long.CreateSaturating(v))];
    }

    /// <summary>The names of a ClassLabel column from the features datasets stores in the file; null when there are none.</summary>
    private static List<string>? ClassNames(Dictionary<string, string> metadata, string column)
    {
        if (!metadata.TryGetValue(HuggingFaceMetadataKey, out string? json))
        {
            return null;
        }

        try
        {
            using JsonDocument document = JsonDocument.Parse(json);
            return document.RootElement is { ValueKind: JsonValueKind.Object } root
                && root.TryGetProperty("info", out JsonElement info) && info.ValueKind == JsonValueKind.Object
                && info.TryGetProperty("features", out JsonElement features) && features.ValueKind == JsonValueKind.Object
                && features.TryGetProperty(column, out JsonElement feature) && feature.ValueKind == JsonValueKind.Object
                && feature.TryGetProperty("_type", out JsonElement type) && type.ValueKind == JsonValueKind.String && type.GetString() == "ClassLabel"
                && feature.TryGetProperty("names", out JsonElement names) && names.ValueKind == JsonValueKind.Array
                && names.EnumerateArray().All(n => n.ValueKind == JsonValueKind.String)
                ? [.. names.EnumerateArray().Select(n => n.GetString()!)]
                : null;
        }
        catch (JsonException)
        {
            return null; // another writer's use of the key: the ids then need labels.json
        }
    }

    // Parquet.Net 6 describes UTF-8 string columns as ReadOnlyMemory<char>; both read as strings.
    private static bool IsText(Type t) => t == typeof(string) || t == typeof(ReadOnlyMemory<char>);

    private static bool IsInteger(Type t) =>
        t == typeof(long) || t == typeof(int) || t == typeof(short) || t == typeof(sbyte)
        || t == typeof(ulong) || t == typeof(uint) || t == typeof(ushort) || t == typeof(byte);

    private static string TypeName(Type t) => t == typeof(byte[]) ? "binary" : t.Name.ToLowerInvariant() switch
    {
        "double" => "double (floating point)",
        "single" => "float (floating point)",
        "boolean" => "boolean",
        var other => other,
    };
}

/// <summary>
/// Parquet.Net sizes its buffers from the file: the footer's length, each column chunk's value count,
/// each page's compressed and uncompressed size and value count. These checks read the same numbers
/// first (the page headers with a small Thrift compact-protocol reader) and refuse, in one line, a
/// file whose numbers no file of its length can hold, so that reading it allocates within a bound
/// of its size: a chunk or page has at most <c>rowLimit</c> values, a page lies inside the file,
/// and a page decompresses to at most <see cref="MaxExpansion"/> times its stored bytes.
/// </summary>
internal static class ParquetPages
{
    /// <summary>
    /// The most a page's bytes may grow when decompressed. Text compresses a few times over; only
    /// long runs of one byte reach a thousand, and no classification split is made of those.
    /// </summary>
    public const long MaxExpansion = 1024;

    private const int MaxDepth = 32;

    /// <summary>The footer's length (the 4 bytes before the closing "PAR1") must leave room for the opening "PAR1".</summary>
    public static void CheckFooter(byte[] bytes, string file)
    {
        if (bytes.Length < 12 || !bytes.AsSpan(0, 4).SequenceEqual("PAR1"u8) || !bytes.AsSpan(bytes.Length - 4).SequenceEqual("PAR1"u8))
        {
            throw new MiguUserException($"{file}: not a readable Parquet file (it must begin and end with PAR1)");
        }

        int footer = System.Buffers.Binary.BinaryPrimitives.ReadInt32LittleEndian(bytes.AsSpan(bytes.Length - 8));
        if (footer <= 0 || footer > bytes.Length - 12)
        {
            throw new MiguUserException($"{file}: not a readable Parquet file (the footer claims {footer} bytes, more than the file's {bytes.Length} hold)");
        }

        // The footer is one Thrift struct (FileMetaData): every string and list in it must fit inside it.
        new ThriftReader(bytes, bytes.Length - 8 - footer, bytes.Length - 8, file, "the footer").SkipStruct();
    }

    /// <summary>Walks the pages of one column chunk as a reader does, checking each one's numbers before Parquet.Net allocates by them.</summary>
    public static void CheckChunk(byte[] bytes, Parquet.Meta.ColumnChunk? chunk, long rowLimit, string file, string column)
    {
        if (chunk?.MetaData is not { } meta)
        {
            throw new MiguUserException($"{file}: column \"{column}\" has no metadata in a row group");
        }

        if (chunk.FilePath is not null)
        {
            throw new MiguUserException($"{file}: column \"{column}\" is stored in another file ({chunk.FilePath})");
        }

        if (meta.NumValues < 0 || meta.NumValues > rowLimit)
        {
            throw new MiguUserException($"{file}: column \"{column}\" claims {meta.NumValues} values in a row group, more than a file of {bytes.Length} bytes holds");
        }

        // Readers start at the first page, whichever of the dictionary and data offsets is set and smaller.
        long offset = meta.DictionaryPageOffset is long d && d > 0 ? Math.Min(d, meta.DataPageOffset) : meta.DataPageOffset;
        long values = 0;
        while (values < meta.NumValues)
        {
            if (offset < 4 || offset >= bytes.Length)
            {
                throw new MiguUserException($"{file}: column \"{column}\": a page begins at byte {offset}, outside the file");
            }

            var reader = new ThriftReader(bytes, (int)offset, bytes.Length, file, $"column \"{column}\"");
            Page page = reader.PageHeader();
            long end = reader.Position + (long)page.CompressedSize;
            if (page.CompressedSize < 0 || end > bytes.Length)
            {
                throw new MiguUserException($"{file}: column \"{column}\": the page at byte {offset} claims {page.CompressedSize} bytes, past the end of the file");
            }

            if (page.UncompressedSize < 0 || page.UncompressedSize > Math.Max(1024, MaxExpansion * page.CompressedSize))
            {
                throw new MiguUserException(
                    $"{file}: column \"{column}\": the page at byte {offset} claims to decompress from {page.CompressedSize} to {page.UncompressedSize} bytes (at most {MaxExpansion} times is accepted)");
            }

            if (page.Values < 0 || page.Values > rowLimit)
            {
                throw new MiguUserException($"{file}: column \"{column}\": the page at byte {offset} claims {page.Values} values, more than a file of {bytes.Length} bytes holds");
            }

            values += page.IsData ? Math.Max(1, page.Values) : 0; // a data page of no values would loop forever
            offset = end;
        }
    }

    /// <summary>What a page header says about the page that follows it.</summary>
    private readonly record struct Page(long UncompressedSize, long CompressedSize, long Values, bool IsData);

    /// <summary>
    /// Just enough of Thrift's compact protocol to read a PageHeader and to walk any struct: field
    /// headers (a delta or a zigzag id, and a type), zigzag varints, and skipping every other kind of
    /// field, refusing any length or count that runs past <paramref name="end"/>.
    /// </summary>
    private ref struct ThriftReader(byte[] bytes, int position, int end, string file, string where)
    {
        private const int Stop = 0, True = 1, False = 2, Byte = 3, I16 = 4, I32 = 5, I64 = 6, Double = 7, Binary = 8, List = 9, Set = 10, Map = 11, Struct = 12;

        public int Position { get; private set; } = position;

        /// <summary>PageHeader: 1 type, 2 uncompressed_page_size, 3 compressed_page_size; num_values first in 5 (data), 7 (dictionary) and 8 (data v2).</summary>
        public Page PageHeader()
        {
            long type = -1, uncompressed = -1, compressed = -1, values = 0;
            short id = 0;
            while (NextField(ref id, out int kind))
            {
                switch (id)
                {
                    case 1 when kind == I32:
                        type = ZigZag();
                        break;
                    case 2 when kind == I32:
                        uncompressed = ZigZag();
                        break;
                    case 3 when kind == I32:
                        compressed = ZigZag();
                        break;
                    case 5 or 7 or 8 when kind == Struct:
                        values = FirstI32OfStruct();
                        break;
                    default:
                        Skip(kind, 0);
                        break;
                }
            }

            if (type < 0 || uncompressed < 0 || compressed < 0)
            {
                throw Broken("a page header lacks its type or sizes");
            }

            // PageType: 0 DATA_PAGE, 1 INDEX_PAGE, 2 DICTIONARY_PAGE, 3 DATA_PAGE_V2.
            return new Page(uncompressed, compressed, values, IsData: type is 0 or 3);
        }

        /// <summary>Walks one struct to its end, checking every length and count in it.</summary>
        public void SkipStruct() => Skip(Struct, 0);

        /// <summary>Field 1 (num_values) of a nested header struct, the rest skipped.</summary>
        private long FirstI32OfStruct()
        {
            long first = 0;
            short id = 0;
            while (NextField(ref id, out int kind))
            {
                if (id == 1 && kind == I32)
                {
                    first = ZigZag();
                }
                else
                {
                    Skip(kind, 1);
                }
            }

            return first;
        }

        private bool NextField(ref short id, out int kind)
        {
            byte header = ReadByte();
            kind = header & 0x0F;
            if (header == Stop)
            {
                return false;
            }

            if (kind == Stop)
            {
                // A field id with no type: no writer makes one, and readers differ on what follows it.
                throw Broken($"a field header 0x{header:X2} has no type");
            }

            int delta = header >> 4;
            id = delta != 0 ? (short)(id + delta) : (short)ZigZag();
            return true;
        }

        private void Skip(int kind, int depth)
        {
            if (depth > MaxDepth)
            {
                throw Broken("structs nest deeper than any Parquet writer's");
            }

            switch (kind)
            {
                case True or False:
                    break;
                case Byte:
                    ReadByte();
                    break;
                case I16 or I32 or I64:
                    ZigZag();
                    break;
                case Double:
                    Advance(8);
                    break;
                case Binary:
                    Advance(Varint());
                    break;
                case List or Set:
                {
                    byte header = ReadByte();
                    long size = header >> 4 == 15 ? Varint() : header >> 4;
                    int element = header & 0x0F;
                    CheckCount(size);
                    for (long i = 0; i < size; i++)
                    {
                        // A boolean in a list is a byte of its own.
                        if (element is True or False)
                        {
                            ReadByte();
                        }
                        else
                        {
                            Skip(element, depth + 1);
                        }
                    }

                    break;
                }

                case Map:
                {
                    long size = Varint();
                    CheckCount(size);
                    if (size > 0)
                    {
                        byte types = ReadByte();
                        for (long i = 0; i < size; i++)
                        {
                            Skip(types >> 4, depth + 1);
                            Skip(types & 0x0F, depth + 1);
                        }
                    }

                    break;
                }

                case Struct:
                {
                    short id = 0;
                    while (NextField(ref id, out int inner))
                    {
                        Skip(inner, depth + 1);
                    }

                    break;
                }

                default:
                    throw Broken($"a field of unknown type {kind}");
            }
        }

        private long ZigZag()
        {
            ulong v = (ulong)Varint();
            return (long)(v >> 1) ^ -(long)(v & 1);
        }

        private long Varint()
        {
            ulong result = 0;
            for (int shift = 0; shift < 64; shift += 7)
            {
                byte b = ReadByte();
                result |= (ulong)(b & 0x7F) << shift;
                if ((b & 0x80) == 0)
                {
                    return (long)result;
                }
            }

            throw Broken("a varint runs past 10 bytes");
        }

        /// <summary>Every element of a list or map takes a byte at least, so no count may pass the bytes left.</summary>
        private readonly void CheckCount(long count)
        {
            if (count < 0 || count > end - Position)
            {
                throw Broken($"a list claims {count} elements in {end - Position} bytes");
            }
        }

        private byte ReadByte() => Position < end ? bytes[Position++] : throw Broken("runs past its end");

        private void Advance(long count)
        {
            if (count < 0 || count > end - Position)
            {
                throw Broken($"a string claims {count} bytes where {end - Position} are left");
            }

            Position += (int)count;
        }

        private readonly MiguUserException Broken(string what) => new($"{file}: not a readable Parquet file ({where}: {what})");
    }
}
