using System.Globalization;
using Migu.Continual.Runs;
using Migu.Core;

namespace Migu.Reports.Store;

/// <summary>
/// Reads a run's <c>loss.csv</c> (header <c>step,task_index,task,epoch,loss,lr,tokens,seconds</c>,
/// one row per optimizer step). Columns are found by name, so extra columns are ignored.
/// </summary>
public static class LossLogFile
{
    /// <summary>The columns read, in the order <c>TryParseRow</c> indexes them (the runner writes <see cref="RunStore.LossHeader"/>).</summary>
    internal static readonly string[] Columns = ["step", "task_index", "task", "epoch", "loss", "lr", "tokens", "seconds"];

    /// <summary>Reads and parses <paramref name="path"/>; <see cref="MiguUserException"/> when missing or malformed.</summary>
    public static IReadOnlyList<LossPoint> Load(string path)
    {
        if (!File.Exists(path))
        {
            throw new MiguUserException($"{path}: not found");
        }

        return Parse(File.ReadAllText(path), path);
    }

    /// <summary>
    /// Parses CSV text; <paramref name="source"/> names the file in errors. Rows come back sorted by
    /// step, and when a step occurs twice the later row wins: a resumed run re-trains the steps
    /// after its last checkpoint and appends them again.
    /// </summary>
    public static IReadOnlyList<LossPoint> Parse(string text, string source)
    {
        string[] lines = text.Split('\n');
        int header = Array.FindIndex(lines, l => l.Trim().Length > 0);
        if (header < 0)
        {
            throw new MiguUserException($"{source}: empty; expected the header {string.Join(',', Columns)}");
        }

        int[] index = ColumnIndexes(lines[header], source);
        int lastLine = Array.FindLastIndex(lines, l => l.Trim().Length > 0);
        // A run that is still writing may leave its last line half-written (no newline yet).
        bool lastMayBeTorn = !text.EndsWith('\n');

        var byStep = new Dictionary<long, LossPoint>();
        for (int i = header + 1; i < lines.Length; i++)
        {
            string line = lines[i].TrimEnd('\r');
            if (line.Trim().Length == 0)
            {
                continue;
            }

            string? problem = TryParseRow(line, index, out LossPoint? point);
            if (problem is not null)
            {
                if (i == lastLine && lastMayBeTorn)
                {
                    break;
                }

                throw new MiguUserException($"{source} line {i + 1}: {problem}");
            }

            byStep[point!.Step] = point;
        }

        return [.. byStep.Values.OrderBy(p => p.Step)];
    }

    private static int[] ColumnIndexes(string headerLine, string source)
    {
        List<string> names = CsvFields.Split(headerLine.TrimEnd('\r')) ?? [];
        List<string> trimmed = [.. names.Select(n => n.Trim())];
        string[] missing = [.. Columns.Where(c => !trimmed.Contains(c))];
        if (missing.Length > 0)
        {
            throw new MiguUserException(
                $"{source}: the header lacks {string.Join(", ", missing)}; expected {string.Join(',', Columns)}");
        }

        return [.. Columns.Select(c => trimmed.IndexOf(c))];
    }

    private static string? TryParseRow(string line, int[] index, out LossPoint? point)
    {
        point = null;
        List<string>? fields = CsvFields.Split(line);
        if (fields is null)
        {
            return "a quoted field is not closed";
        }

        int needed = index.Max() + 1;
        if (fields.Count < needed)
        {
            return $"expected at least {needed} fields, got {fields.Count}";
        }

        string Field(int column) => fields[index[column]].Trim();

        if (!long.TryParse(Field(0), NumberStyles.Integer, CultureInfo.InvariantCulture, out long step) || step < 0)
        {
            return $"step '{Field(0)}' is not a non-negative integer";
        }

        if (!int.TryParse(Field(1), NumberStyles.Integer, CultureInfo.InvariantCulture, out int taskIndex) || taskIndex < 0)
        {
            return $"task_index '{Field(1)}' is not a non-negative integer";
        }

        if (Field(2).Length == 0)
        {
            return "task is empty";
        }

        double[] numbers = new double[4];
        int[] numberColumns = [3, 4, 5, 7];
        for (int k = 0; k < numberColumns.Length; k++)
        {
            int c = numberColumns[k];
            if (!double.TryParse(Field(c), NumberStyles.Float, CultureInfo.InvariantCulture, out numbers[k]))
            {
                return $"{Columns[c]} '{Field(c)}' is not a number";
            }
        }

        if (!long.TryParse(Field(6), NumberStyles.Integer, CultureInfo.InvariantCulture, out long tokens) || tokens < 0)
        {
            return $"tokens '{Field(6)}' is not a non-negative integer";
        }

        point = new LossPoint(step, taskIndex, Field(2), numbers[0], numbers[1], numbers[2], tokens, numbers[3]);
        return null;
    }
}
