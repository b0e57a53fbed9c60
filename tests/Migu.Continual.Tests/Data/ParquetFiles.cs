using Parquet;
using Parquet.Schema;

namespace Migu.Continual.Tests.Data;

/// <summary>Small Parquet files written with Parquet.Net, for the cases the committed fixtures do not cover (bad columns, nulls).</summary>
internal static class ParquetFiles
{
    /// <summary>A text column and a label column of string?, long, long?, int or double.</summary>
    public static void Write<TLabel>(
        string path, string textName, string?[] texts, string labelName, TLabel[] labels, Dictionary<string, string>? metadata = null, ParquetOptions? options = null) =>
        WriteAsync(path, textName, texts, labelName, labels, metadata, options).GetAwaiter().GetResult();

    private static async Task WriteAsync(string path, string textName, string?[] texts, string labelName, Array labels, Dictionary<string, string>? metadata, ParquetOptions? options)
    {
        var text = new DataField<string>(textName, nullable: true);
        DataField label = labels switch
        {
            string?[] => new DataField<string>(labelName, nullable: true),
            long[] => new DataField<long>(labelName, nullable: false),
            long?[] => new DataField<long?>(labelName, nullable: true),
            int[] => new DataField<int>(labelName, nullable: false),
            double[] => new DataField<double>(labelName, nullable: false),
            _ => throw new ArgumentException($"no column type for {labels.GetType()}", nameof(labels)),
        };
        Directory.CreateDirectory(Path.GetDirectoryName(path)!);
        await using FileStream stream = File.Create(path);
        await using ParquetWriter writer = await ParquetWriter.CreateAsync(new ParquetSchema(text, label), stream, options);
        if (metadata is not null)
        {
            writer.CustomMetadata = metadata;
        }

        using ParquetRowGroupWriter group = writer.CreateRowGroup();
        await group.WriteAsync(text, texts!);
        switch (labels)
        {
            case string?[] s:
                await group.WriteAsync(label, s!);
                break;
            case long[] l:
                await group.WriteAsync(label, (ReadOnlyMemory<long>)l);
                break;
            case long?[] n:
                await group.WriteAsync(label, (ReadOnlyMemory<long?>)n);
                break;
            case int[] i:
                await group.WriteAsync(label, (ReadOnlyMemory<int>)i);
                break;
            case double[] d:
                await group.WriteAsync(label, (ReadOnlyMemory<double>)d);
                break;
        }
    }
}
