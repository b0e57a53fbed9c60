using Migu.Continual.Data;
using Migu.Core;

namespace Migu.Continual.Tests.Data;

public sealed class TaskOrdersTests : IDisposable
{
    private readonly TempDataRoot data = new();

    public void Dispose() => data.Dispose();

    [Fact]
    public void The_standard_orders_are_the_papers()
    {
        Assert.Equal(["dbpedia", "amazon", "yahoo", "agnews"], TaskOrders.Paper(1));
        Assert.Equal(["dbpedia", "amazon", "agnews", "yahoo"], TaskOrders.Paper(2));
        Assert.Equal(["yahoo", "amazon", "agnews", "dbpedia"], TaskOrders.Paper(3));
    }

    [Fact]
    public void The_long_orders_use_the_cl_benchmark_folder_names()
    {
        Assert.Equal(
            ["MNLI", "CB", "WiC", "COPA", "QQP", "BoolQA", "RTE", "IMDB", "yelp", "amazon", "SST-2", "dbpedia", "agnews", "MultiRC", "yahoo"],
            TaskOrders.Paper(4));
        Assert.Equal(
            ["MultiRC", "BoolQA", "WiC", "MNLI", "CB", "COPA", "QQP", "RTE", "IMDB", "SST-2", "dbpedia", "agnews", "yelp", "amazon", "yahoo"],
            TaskOrders.Paper(5));
        Assert.Equal(
            ["yelp", "amazon", "MNLI", "CB", "COPA", "QQP", "RTE", "IMDB", "SST-2", "dbpedia", "agnews", "yahoo", "MultiRC", "BoolQA", "WiC"],
            TaskOrders.Paper(6));
        Assert.Equal(6, TaskOrders.PaperCount);
    }

    [Theory]
    [InlineData(0)]
    [InlineData(7)]
    public void An_order_outside_one_to_six_is_refused(int order)
    {
        Assert.Equal(
            $"order: {order} is not one of the papers' orders (1–6)",
            Assert.Throws<MiguUserException>(() => TaskOrders.Paper(order)).Message);
    }

    [Fact]
    public void An_order_resolves_to_the_catalog_entries_in_training_order()
    {
        TaskCatalog catalog = SharedLikeRoot("yahoo");

        IReadOnlyList<TaskEntry> tasks = TaskOrders.Resolve(catalog, order: 3, tasks: null);

        Assert.Equal(["yahoo", "amazon", "agnews", "dbpedia"], tasks.Select(t => t.Name));
        Assert.Equal(["TC", "SC", "TC", "TC"], tasks.Select(t => t.Type));
    }

    [Fact]
    public void A_task_list_matches_names_ignoring_case_and_returns_the_folder_spelling()
    {
        TaskCatalog catalog = SharedLikeRoot();

        IReadOnlyList<TaskEntry> tasks = TaskOrders.Resolve(catalog, order: null, tasks: ["DBpedia", "Amazon", "yelp", "AGNews"]);

        Assert.Equal(["dbpedia", "amazon", "yelp", "agnews"], tasks.Select(t => t.Name));
    }

    [Fact]
    public void Missing_tasks_are_all_named_with_what_is_there_and_the_yelp_hint()
    {
        TaskCatalog catalog = SharedLikeRoot();

        var e = Assert.Throws<MiguUserException>(() => TaskOrders.Resolve(catalog, order: 1, tasks: null));

        Assert.Equal(
            $"{data.Root}: order 1 needs tasks that are not there: yahoo; available: agnews (TC), amazon (SC), dbpedia (TC), yelp (SC); "
            + "yelp (5-class reviews) can stand in for yahoo: list the tasks instead of giving an order",
            e.Message);
    }

    [Fact]
    public void A_custom_list_with_missing_tasks_names_each_of_them()
    {
        TaskCatalog catalog = SharedLikeRoot();

        var e = Assert.Throws<MiguUserException>(() => TaskOrders.Resolve(catalog, order: null, tasks: ["agnews", "MNLI", "CB"]));

        Assert.Equal($"{data.Root}: the task list names tasks that are not there: MNLI, CB; available: agnews (TC), amazon (SC), dbpedia (TC), yelp (SC)", e.Message);
    }

    [Fact]
    public void A_long_order_that_already_has_yelp_gets_no_stand_in_hint()
    {
        TaskCatalog catalog = SharedLikeRoot();

        var e = Assert.Throws<MiguUserException>(() => TaskOrders.Resolve(catalog, order: 4, tasks: null));

        Assert.StartsWith($"{data.Root}: order 4 needs tasks that are not there: MNLI, CB, WiC, COPA, QQP, BoolQA, RTE, IMDB, SST-2, MultiRC, yahoo; available: ", e.Message, StringComparison.Ordinal);
        Assert.DoesNotContain("stand in", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Tasks_and_order_together_are_refused()
    {
        Assert.Equal(
            "give either tasks or order, not both",
            Assert.Throws<MiguUserException>(() => TaskOrders.Resolve(SharedLikeRoot(), order: 1, tasks: ["agnews"])).Message);
    }

    [Fact]
    public void A_directory_root_needs_tasks_or_an_order()
    {
        Assert.Equal(
            $"{data.Root}: name the tasks in training order, or one of the papers' orders (1–6)",
            Assert.Throws<MiguUserException>(() => TaskOrders.Resolve(SharedLikeRoot(), order: null, tasks: null)).Message);
    }

    [Fact]
    public void An_empty_or_repeating_list_is_refused()
    {
        TaskCatalog catalog = SharedLikeRoot();

        Assert.Equal("tasks: the list is empty", Assert.Throws<MiguUserException>(() => TaskOrders.Resolve(catalog, null, [])).Message);
        Assert.Equal(
            "tasks: 'agnews' is listed more than once",
            Assert.Throws<MiguUserException>(() => TaskOrders.Resolve(catalog, null, ["agnews", "yelp", "AGNEWS"])).Message);
    }

    [Fact]
    public void The_embedded_stream_has_a_default_order()
    {
        IReadOnlyList<TaskEntry> tasks = TaskOrders.Resolve(TaskCatalog.Embedded(), order: null, tasks: null);

        Assert.Equal(["dbpedia", "amazon", "yelp", "agnews"], tasks.Select(t => t.Name));
    }

    // The shared data's layout: agnews and dbpedia under TC, amazon and yelp under SC, plus extras.
    private TaskCatalog SharedLikeRoot(params string[] extraTopics)
    {
        foreach ((string type, string name) in new[] { ("TC", "agnews"), ("TC", "dbpedia"), ("SC", "amazon"), ("SC", "yelp") }
                     .Concat(extraTopics.Select(n => ("TC", n))))
        {
            data.AddTask(type, name, ["x"], [new("s", "x")], [new("t", "x")]);
        }

        return TaskCatalog.Open(data.Root);
    }
}
