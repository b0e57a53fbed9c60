namespace Migu.Reports.Analysis;

/// <summary>The distinct task lists of a report's runs, lettered A, B, … in order of first appearance.</summary>
public sealed class TaskSets
{
    private readonly List<IReadOnlyList<string>> _sets = [];

    public IReadOnlyList<IReadOnlyList<string>> Sets => _sets;

    /// <summary>The letter of <paramref name="tasks"/>, adding it as a new set when unseen.</summary>
    public string LetterOf(IReadOnlyList<string> tasks)
    {
        int i = _sets.FindIndex(s => s.SequenceEqual(tasks, StringComparer.Ordinal));
        if (i < 0)
        {
            _sets.Add(tasks);
            i = _sets.Count - 1;
        }

        return Letter(i);
    }

    /// <summary>A, B, …, Z, AA, AB, …</summary>
    public static string Letter(int index) =>
        index < 26 ? ((char)('A' + index)).ToString() : Letter((index / 26) - 1) + Letter(index % 26);
}
