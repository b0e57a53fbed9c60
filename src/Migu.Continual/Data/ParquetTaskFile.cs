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
        for (int g = 0; g < reader.RowGroupCount; g++)
        {
            using ParquetRowGroupReader group = reader.OpenRowGroupReader(g);
            int count = checked((int)group.RowCount);
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
