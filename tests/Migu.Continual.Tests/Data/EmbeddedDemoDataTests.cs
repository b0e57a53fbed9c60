using System.Reflection;
using Migu.Continual.Data;

namespace Migu.Continual.Tests.Data;

public sealed class EmbeddedDemoDataTests
{
    [Fact]
    public void The_embedded_stream_holds_the_four_tasks_under_their_types()
    {
        TaskCatalog catalog = TaskCatalog.Embedded();

        Assert.Equal("embedded demo data", catalog.Root);
        Assert.Equal(
            ["SC/amazon", "SC/yelp", "TC/agnews", "TC/dbpedia"],
            catalog.Tasks.Select(t => $"{t.Type}/{t.Name}").Order(StringComparer.Ordinal));
        Assert.Equal("embedded:TC/agnews", catalog.Find("AGNews").Location);
    }

    [Theory]
    [InlineData("agnews", 4, 100)]
    [InlineData("dbpedia", 14, 100)]
    [InlineData("amazon", 5, 300)]
    [InlineData("yelp", 5, 100)]
    public void Every_task_loads_with_every_label_in_both_splits(string name, int labelCount, int testCount)
    {
        TaskData task = TaskCatalog.Embedded().Load(name);

        Assert.Equal(labelCount, task.Labels.Count);
        Assert.Equal(400, task.Train.Count);
        Assert.Equal(testCount, task.Test.Count);
        Assert.Empty(task.Dev);
        Assert.All(task.Labels, label => Assert.Contains(task.Train, e => e.Label == label));
        Assert.All(task.Labels, label => Assert.Contains(task.Test, e => e.Label == label));
        // Cut at 300 characters, plus the sentence's final newline.
        Assert.All(task.Train.Concat(task.Test), e => Assert.InRange(e.Sentence.Length, 1, 301));
    }

    [Fact]
    public void The_train_sample_is_balanced_like_its_source()
    {
        TaskData agnews = TaskCatalog.Embedded().Load("agnews");

        // The source train split is 968 World, 1040 Sports, 1000 Business, 992 Sci/Tech of 4000.
        Assert.Equal([97, 104, 100, 99], agnews.Labels.Select(l => agnews.Train.Count(e => e.Label == l)));
    }

    [Fact]
    public void The_embedded_files_stay_under_one_megabyte()
    {
        Assembly assembly = typeof(TaskCatalog).Assembly;
        long total = 0;
        foreach (string name in assembly.GetManifestResourceNames().Where(n => n.StartsWith("Migu.Continual.Demo/", StringComparison.Ordinal)))
        {
            using Stream stream = assembly.GetManifestResourceStream(name)!;
            total += stream.Length;
        }

        Assert.InRange(total, 100_000, 1_000_000);
    }
}
