using Migu.Core;

namespace Migu.Continual.Data;

/// <summary>
/// Task orders: the six of the MIGU and O-LoRA papers by number, or a list of dataset names or
/// paths (<see cref="TaskCatalog.Find"/>). Names are the CL_Benchmark folder names (<c>BoolQA</c>
/// for BoolQ, <c>SST-2</c> for SST-2, …); a catalog matches them case-insensitively.
/// </summary>
public static class TaskOrders
{
    private static readonly string[][] Papers =
    [
        ["dbpedia", "amazon", "yahoo", "agnews"],
        ["dbpedia", "amazon", "agnews", "yahoo"],
        ["yahoo", "amazon", "agnews", "dbpedia"],
        ["MNLI", "CB", "WiC", "COPA", "QQP", "BoolQA", "RTE", "IMDB", "yelp", "amazon", "SST-2", "dbpedia", "agnews", "MultiRC", "yahoo"],
        ["MultiRC", "BoolQA", "WiC", "MNLI", "CB", "COPA", "QQP", "RTE", "IMDB", "SST-2", "dbpedia", "agnews", "yelp", "amazon", "yahoo"],
        ["yelp", "amazon", "MNLI", "CB", "COPA", "QQP", "RTE", "IMDB", "SST-2", "dbpedia", "agnews", "yahoo", "MultiRC", "BoolQA", "WiC"],
    ];

    /// <summary>How many orders <see cref="Paper"/> knows (1 to this).</summary>
    public static int PaperCount => Papers.Length;

    /// <summary>The papers' order <paramref name="order"/> (1–6): 1–3 the standard four tasks, 4–6 the fifteen-task stream.</summary>
    public static IReadOnlyList<string> Paper(int order) =>
        order >= 1 && order <= Papers.Length
            ? Papers[order - 1]
            : throw new MiguUserException($"order: {order} is not one of the papers' orders (1–{Papers.Length})");

    /// <summary>
    /// The run's tasks in training order, as found in <paramref name="catalog"/>: the papers'
    /// order, or the list, or the catalog's default order when neither is given. Every missing
    /// name is reported at once, with what the catalog holds.
    /// </summary>
    public static IReadOnlyList<TaskEntry> Resolve(TaskCatalog catalog, int? order, IReadOnlyList<string>? tasks)
    {
        if (order is not null && tasks is not null)
        {
            throw new MiguUserException("give either tasks or order, not both");
        }

        IReadOnlyList<string> names = order is int number ? Paper(number)
            : tasks ?? catalog.DefaultOrder
            ?? throw new MiguUserException($"{catalog.Root}: name the tasks in training order, or one of the papers' orders (1–{Papers.Length})");
        if (names.Count == 0)
        {
            throw new MiguUserException("tasks: the list is empty");
        }

        string? twice = names.GroupBy(n => n, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1)?.Key;
        if (twice is not null)
        {
            throw new MiguUserException($"tasks: '{twice}' is listed more than once");
        }

        var missing = names.Where(n => !TaskCatalog.IsPath(n) && !catalog.Tasks.Any(t => string.Equals(t.Name, n, StringComparison.OrdinalIgnoreCase))).ToList();
        if (missing.Count > 0)
        {
            string what = order is int o ? $"order {o} needs" : "the task list names";
            string hint = missing.Contains("yahoo", StringComparer.OrdinalIgnoreCase)
                && catalog.Contains("yelp") && !names.Contains("yelp", StringComparer.OrdinalIgnoreCase)
                ? "; yelp (5-class reviews) can stand in for yahoo: list the tasks instead of giving an order"
                : string.Empty;
            throw new MiguUserException(
                $"{catalog.Root}: {what} tasks that are not there: {string.Join(", ", missing)}; available: {catalog.Available()}{hint}");
        }

        List<TaskEntry> entries = [.. names.Select(catalog.Find)];
        // Tasks named by paths take their folder's or file's name, and a run keys tasks by name.
        if (entries.GroupBy(e => e.Name, StringComparer.OrdinalIgnoreCase).FirstOrDefault(g => g.Count() > 1) is { } same)
        {
            throw new MiguUserException($"tasks: {string.Join(" and ", same.Select(e => e.Location))} are both named '{same.Key}'; a run needs distinct task names (rename a folder or file)");
        }

        return entries;
    }
}
