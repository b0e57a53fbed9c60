using System.Globalization;
using System.Text;

namespace Migu.Reports.Writing;

/// <summary>Builds report.md: headings, paragraphs, pipe tables and numbered figures, with "\n" line ends.</summary>
internal sealed class MarkdownDocument
{
    private readonly StringBuilder _text = new();
    private int _figures;
    private int _tables;

    public void Heading(int level, string text) => Block($"{new string('#', level)} {text}");

    public void Paragraph(string text) => Block(text);

    /// <summary>A bullet list; each item is "**name:** text".</summary>
    public void Facts(IEnumerable<(string Name, string Text)> items) =>
        Block(string.Join('\n', items.Select(i => $"- **{i.Name}:** {i.Text}")));

    /// <summary>A numbered table with its caption above it, as papers place table captions.</summary>
    public void Table(string caption, IReadOnlyList<string> headers, IReadOnlyList<bool> rightAligned, IEnumerable<IReadOnlyList<string>> rows)
    {
        _tables++;
        var table = new StringBuilder();
        table.Append('\n').Append(CultureInfo.InvariantCulture, $"*Table {_tables}: {caption}*").Append("\n\n");
        table.Append("| ").Append(string.Join(" | ", headers.Select(Cell))).Append(" |\n");
        table.Append('|').Append(string.Join('|', rightAligned.Select(r => r ? "---:" : "---"))).Append("|\n");
        foreach (var row in rows)
        {
            table.Append("| ").Append(string.Join(" | ", row.Select(Cell))).Append(" |\n");
        }

        _text.Append(table);
    }

    /// <summary>An embedded image (relative link) with a numbered caption below it.</summary>
    public void Figure(string relativePath, string alt, string caption)
    {
        _figures++;
        Block($"![{alt}]({relativePath.Replace('\\', '/')})");
        Block($"*Figure {_figures}: {caption}*");
    }

    public override string ToString() => _text.ToString().TrimStart('\n');

    /// <summary>Text inside a table cell: a pipe would end the cell.</summary>
    private static string Cell(string text) => text.Replace("|", "\\|", StringComparison.Ordinal);

    private void Block(string text) => _text.Append('\n').Append(text).Append('\n');
}
