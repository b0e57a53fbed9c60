using System.Text;
using Migu.Core;

namespace Migu.Continual.Data;

/// <summary>
/// A split in CSV as RFC 4180 writes it: a header row naming the columns, fields separated by
/// commas, a field that holds a comma, a quote or a line break enclosed in double quotes (a quote
/// inside written twice); CRLF or LF line ends; UTF-8, with or without a byte order mark. Blank
/// lines are skipped. Every cell is text, so a label is its cell as written. Stricter than most
/// readers on purpose: a stray quote or a row of the wrong width is an error naming its line (the
/// line a record starts on, counted from 1), never a silently shifted column.
/// </summary>
internal static class CsvTaskFile
{
    public static RawSplit Read(byte[] bytes, string file, TaskFields fields)
    {
        string text = Decode(bytes, file);
        List<(List<string> Fields, int Line)> records = Records(text, file);
        if (records.Count == 0)
        {
            throw new MiguUserException($"{file}: empty; expected a header row naming the columns");
        }

        List<string> header = records[0].Fields;
        string? textColumn = fields.TextCandidates.FirstOrDefault(header.Contains);
        int textAt = textColumn is null ? -1 : Column(header, textColumn, file);
        int labelAt = header.Contains(fields.LabelName) ? Column(header, fields.LabelName, file) : -1;
        if (textAt < 0 || labelAt < 0)
        {
            string missing = textAt < 0 ? fields.MissingText : $"\"{fields.LabelName}\"";
            throw new MiguUserException($"{file}: the header has no column {missing} (columns: {string.Join(", ", header)})");
        }

        var examples = new List<RawExample>(records.Count - 1);
        foreach (var (row, line) in records.Skip(1))
        {
            if (row.Count != header.Count)
            {
                throw new MiguUserException($"{file}: line {line}: {row.Count} field(s), but the header has {header.Count}");
            }

            examples.Add(new RawExample(row[textAt], row[labelAt], 0, $"line {line}"));
        }

        return new RawSplit(file, examples);
    }

    private static int Column(List<string> header, string name, string file) =>
        header.IndexOf(name) is int first && header.LastIndexOf(name) == first
            ? first
            : throw new MiguUserException($"{file}: the header names column \"{name}\" more than once");

    private static string Decode(byte[] bytes, string file)
    {
        ReadOnlySpan<byte> content = bytes.AsSpan().StartsWith("\uFEFF"u8) ? bytes.AsSpan(3) : bytes;
        try
        {
            return new UTF8Encoding(encoderShouldEmitUTF8Identifier: false, throwOnInvalidBytes: true).GetString(content);
        }
        catch (DecoderFallbackException e)
        {
            int line = 1 + content[..Math.Max(0, Math.Min(e.Index, content.Length))].Count((byte)'\n');
            throw new MiguUserException($"{file}: line {line}: not valid UTF-8 text", e);
        }
    }

    /// <summary>Every record with the line it starts on; a line with nothing on it is no record.</summary>
    private static List<(List<string> Fields, int Line)> Records(string text, string file)
    {
        var records = new List<(List<string> Fields, int Line)>();
        int i = 0;
        int line = 1;
        var field = new StringBuilder();
        while (i < text.Length)
        {
            int start = line;
            if (text[i] is '\n' or '\r')
            {
                i += text[i] == '\r' && i + 1 < text.Length && text[i + 1] == '\n' ? 2 : 1;
                line++;
                continue;
            }

            var fields = new List<string>();
            while (true)
            {
                field.Clear();
                if (i < text.Length && text[i] == '"')
                {
                    i = Quoted(text, i + 1, field, ref line, start, file);
                    if (i < text.Length && text[i] is not (',' or '\n' or '\r'))
                    {
                        throw new MiguUserException($"{file}: line {line}: '{text[i]}' after a closing quote; a quoted field ends at a comma or a line end");
                    }
                }
                else
                {
                    while (i < text.Length && text[i] is not (',' or '\n' or '\r'))
                    {
                        if (text[i] == '"')
                        {
                            throw new MiguUserException($"{file}: line {line}: a quote inside an unquoted field; enclose the field in quotes and write the quote twice");
                        }

                        field.Append(text[i++]);
                    }
                }

                fields.Add(field.ToString());
                if (i < text.Length && text[i] == ',')
                {
                    i++;
                    continue;
                }

                break;
            }

            if (i < text.Length)
            {
                i += text[i] == '\r' && i + 1 < text.Length && text[i + 1] == '\n' ? 2 : 1;
                line++;
            }

            records.Add((fields, start));
        }

        return records;
    }

    /// <summary>Reads a quoted field's content from just after its opening quote; returns the index just past its closing quote.</summary>
    private static int Quoted(string text, int i, StringBuilder field, ref int line, int start, string file)
    {
        while (i < text.Length)
        {
            char c = text[i];
            if (c == '"')
            {
                if (i + 1 < text.Length && text[i + 1] == '"')
                {
                    field.Append('"');
                    i += 2;
                    continue;
                }

                return i + 1;
            }

            if (c == '\n' || (c == '\r' && (i + 1 >= text.Length || text[i + 1] != '\n')))
            {
                line++;
            }

            field.Append(c);
            i++;
        }

        throw new MiguUserException($"{file}: line {start}: a quoted field opens here and never closes");
    }
}
