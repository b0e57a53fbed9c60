using Migu.Continual.Data;
using Migu.Continual.Recipes;
using Migu.Core;

namespace Migu.Continual.Tests.Data;

public sealed class DataPreparationTests
{
    private static readonly string[] Labels = ["pos", "neg", "mixed"];

    private static TaskData Task(string name = "reviews", Example[]? dev = null) => new()
    {
        Name = name,
        Type = "SC",
        Labels = Labels,
        Train = TempDataRoot.Examples(("pos", 500), ("neg", 300), ("mixed", 200)),
        Test = TempDataRoot.Examples(("pos", 100), ("neg", 60), ("mixed", 40)),
        Dev = dev ?? [],
        Location = "root/SC/" + name,
    };

    [Fact]
    public void Caps_keep_label_proportions()
    {
        TaskData capped = DataPreparation.Apply(Task(), new DataSettings { MaxTrain = 100, MaxTest = 50 }, seed: 42);

        Assert.Equal([50, 30, 20], Counts(capped.Train));
        Assert.Equal([25, 15, 10], Counts(capped.Test));
        Assert.Empty(capped.Dev);
    }

    [Fact]
    public void No_options_change_nothing()
    {
        TaskData task = Task();

        TaskData same = DataPreparation.Apply(task, new DataSettings(), seed: 42);

        Assert.Same(task.Train, same.Train);
        Assert.Same(task.Test, same.Test);
    }

    [Fact]
    public void The_same_seed_gives_the_same_examples_and_another_seed_others()
    {
        var settings = new DataSettings { MaxTrain = 30, MaxTest = 30, DevFraction = 0.1 };

        TaskData first = DataPreparation.Apply(Task(), settings, seed: 42);
        TaskData again = DataPreparation.Apply(Task(), settings, seed: 42);
        TaskData other = DataPreparation.Apply(Task(), settings, seed: 1024);

        Assert.Equal(first.Train, again.Train);
        Assert.Equal(first.Dev, again.Dev);
        Assert.Equal(first.Test, again.Test);
        Assert.NotEqual(first.Train, other.Train);
        Assert.NotEqual(first.Test, other.Test);
    }

    [Fact]
    public void Tasks_draw_from_their_own_streams()
    {
        var settings = new DataSettings { MaxTrain = 30 };

        TaskData a = DataPreparation.Apply(Task("a"), settings, seed: 42);
        TaskData b = DataPreparation.Apply(Task("b"), settings, seed: 42);

        // Same examples, same seed, different task names: different samples.
        Assert.NotEqual(a.Train, b.Train);
    }

    [Fact]
    public void A_dev_split_is_carved_from_train_by_label_when_there_is_none()
    {
        TaskData task = Task();

        TaskData carved = DataPreparation.Apply(task, new DataSettings { DevFraction = 0.1 }, seed: 42);

        Assert.Equal([50, 30, 20], Counts(carved.Dev));
        Assert.Equal([450, 270, 180], Counts(carved.Train));
        Assert.Empty(carved.Dev.Intersect(carved.Train));
        Assert.Equal(task.Train.ToHashSet(), carved.Dev.Concat(carved.Train).ToHashSet());
        Assert.Same(task.Test, carved.Test);
    }

    [Fact]
    public void Dev_is_carved_from_the_whole_train_set_before_the_caps()
    {
        TaskData carved = DataPreparation.Apply(Task(), new DataSettings { DevFraction = 0.2, MaxTrain = 100, MaxTest = 50 }, seed: 42);

        // 200 to dev, capped at 50 like test; train capped at 100 of the 800 left.
        Assert.Equal(50, carved.Dev.Count);
        Assert.Equal(100, carved.Train.Count);
        Assert.Empty(carved.Dev.Intersect(carved.Train));
    }

    [Fact]
    public void A_dev_file_is_kept_and_nothing_is_carved()
    {
        Example[] dev = TempDataRoot.Examples(("pos", 2), ("neg", 1));

        TaskData task = DataPreparation.Apply(Task(dev: dev), new DataSettings { DevFraction = 0.5 }, seed: 42);

        Assert.Same(dev, task.Dev);
        Assert.Equal(1000, task.Train.Count);
    }

    [Fact]
    public void A_tiny_dev_fraction_still_carves_one_example()
    {
        TaskData task = DataPreparation.Apply(Task(), new DataSettings { DevFraction = 0.0001 }, seed: 42);

        Assert.Single(task.Dev);
        Assert.Equal(999, task.Train.Count);
    }

    [Fact]
    public void A_dev_fraction_that_leaves_nothing_to_train_on_is_refused()
    {
        TaskData tiny = Task() with { Train = [new("x", "pos")] };

        var e = Assert.Throws<MiguUserException>(() => DataPreparation.Apply(tiny, new DataSettings { DevFraction = 0.5 }, seed: 42));

        Assert.Equal("root/SC/reviews: data_options.dev_fraction 0.5 would leave no training examples (train has 1)", e.Message);
    }

    [Theory]
    [InlineData(0, null, 0.0, "data_options.max_train: 0 is not a positive count")]
    [InlineData(null, -3, 0.0, "data_options.max_test: -3 is not a positive count")]
    [InlineData(null, null, 1.0, "data_options.dev_fraction: 1 is not in [0, 1)")]
    [InlineData(null, null, -0.25, "data_options.dev_fraction: -0.25 is not in [0, 1)")]
    [InlineData(null, null, double.NaN, "data_options.dev_fraction: NaN is not in [0, 1)")]
    public void Bad_options_name_the_key(int? maxTrain, int? maxTest, double devFraction, string message)
    {
        var settings = new DataSettings { MaxTrain = maxTrain, MaxTest = maxTest, DevFraction = devFraction };

        Assert.Equal(message, Assert.Throws<MiguUserException>(() => DataPreparation.Apply(Task(), settings, seed: 1)).Message);
    }

    [Fact]
    public void A_replay_sample_is_a_stratified_fraction_drawn_once_per_seed()
    {
        IReadOnlyList<Example> sample = DataPreparation.ReplaySample(Task(), 0.02, seed: 42);

        Assert.Equal([10, 6, 4], Counts(sample));
        Assert.Equal(sample, DataPreparation.ReplaySample(Task(), 0.02, seed: 42));
        Assert.NotEqual(sample, DataPreparation.ReplaySample(Task(), 0.02, seed: 2048));
        Assert.Empty(DataPreparation.ReplaySample(Task(), 0, seed: 42));
        Assert.Equal(1000, DataPreparation.ReplaySample(Task(), 1, seed: 42).Count);
    }

    [Fact]
    public void A_replay_fraction_of_a_small_task_keeps_at_least_one_example()
    {
        TaskData small = Task() with { Train = TempDataRoot.Examples(("pos", 6), ("neg", 4)) };

        Assert.Single(DataPreparation.ReplaySample(small, 0.02, seed: 42));
    }

    [Fact]
    public void A_replay_fraction_outside_zero_to_one_is_refused()
    {
        Assert.Equal(
            "replay.fraction: 1.5 is not in [0, 1]",
            Assert.Throws<MiguUserException>(() => DataPreparation.ReplaySample(Task(), 1.5, seed: 42)).Message);
    }

    [Fact]
    public void Loading_through_a_catalog_applies_the_options()
    {
        using var data = new TempDataRoot();
        data.AddTask("SC", "reviews", Labels, Task().Train.ToArray(), Task().Test.ToArray());
        var settings = new DataSettings { MaxTrain = 10, MaxTest = 10 };

        TaskData task = TaskCatalog.Open(data.Root).Load("reviews", settings, seed: 42);

        Assert.Equal([5, 3, 2], Counts(task.Train));
        Assert.Equal(DataPreparation.Apply(TaskCatalog.Open(data.Root).Load("reviews"), settings, 42).Train, task.Train);
    }

    private static int[] Counts(IReadOnlyList<Example> examples) => Labels.Select(l => examples.Count(e => e.Label == l)).ToArray();
}
