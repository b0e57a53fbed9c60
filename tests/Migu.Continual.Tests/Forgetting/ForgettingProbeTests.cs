using Migu.Continual.Forgetting;
using Migu.Continual.Recipes;
using Migu.Continual.Runs;
using Migu.Core;

namespace Migu.Continual.Tests.Forgetting;

public sealed class ForgettingProbeTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("migu-forget").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private Recipe Recipe(MiguOptions? migu) => new()
    {
        Model = "llama-tiny",
        Method = "lora",
        Migu = migu,
        Training = new TrainingSettings { Epochs = 2, Lr = 3e-3, Batch = 8, MaxSourceLength = 48, MaxTargetLength = 6, CheckpointEvery = 2 },
        Eval = new EvalSettings { Mode = EvalMode.Rank, Batch = 16 },
        Forgetting = new ForgettingSettings
        {
            MultipleChoice = [RepoFiles.Path("recipes", "data", "example-mc.jsonl")],
            Perplexity = [Text()],
            MaxItems = 6,
            SeqLen = 32,
        },
        Seed = 9,
    };

    [Theory]
    [InlineData(false)]
    [InlineData(true)]
    public void A_lora_run_records_learning_and_forgetting_before_training_and_after_every_epoch(bool withMigu)
    {
        string dir = Path.Combine(root, withMigu ? "migu" : "plain");
        RunMetrics metrics = new ContinualRunner(Recipe(withMigu ? new MiguOptions { Threshold = 0.7, SkipFirstTask = false } : null), SyntheticTasks.Two(), dir).Run();
        Assert.True(metrics.Finished);

        ForgettingReport report = ForgettingReport.Read(Path.Combine(dir, ForgettingReport.FileName));
        Assert.Equal([(0, 0), (0, 1), (0, 2), (1, 1), (1, 2)], report.Points.Select(p => (p.TaskIndex, p.Epoch)));
        Assert.Equal([0L, 3, 6, 9, 12], report.Points.Select(p => p.Step)); // 24 examples in batches of 8: 3 steps an epoch
        Assert.All(report.Points, p =>
        {
            Assert.InRange(p.NewDomainAccuracy!.Value, 0, 1);
            Assert.True(p.NewDomainLoss > 0);
            Assert.Equal(6, p.MultipleChoice["example-mc"].Count);
            Assert.True(p.Perplexity["general"] > 1);
        });

        // After its last epoch a task's accuracy is what the runner's matrix has on its diagonal.
        Assert.Equal(metrics.AccuracyMatrix[0][0], report.Points[2].NewDomainAccuracy!.Value, 12);
        Assert.Equal(metrics.AccuracyMatrix[1][1], report.Points[4].NewDomainAccuracy!.Value, 12);
    }

    [Fact]
    public void Measuring_mid_task_leaves_training_as_it_would_have_been_and_a_resume_gives_the_same_curve()
    {
        Recipe with = Recipe(new MiguOptions { Threshold = 0.5, SkipFirstTask = false, Mode = MiguMode.Update });
        string probed = Path.Combine(root, "probed");
        new ContinualRunner(with, SyntheticTasks.Two(), probed).Run();
        string plain = Path.Combine(root, "unprobed");
        new ContinualRunner(with with { Forgetting = null }, SyntheticTasks.Two(), plain).Run();
        Assert.Equal(LossColumn(plain), LossColumn(probed)); // the probe's forward passes do not reach MIGU's masks

        string resumed = Path.Combine(root, "resumed");
        using var cancel = new CancellationTokenSource();
        Assert.Throws<OperationCanceledException>(() => new ContinualRunner(with, SyntheticTasks.Two(), resumed, new CancelAt(1, 4, cancel)).Run(cancel.Token));
        new ContinualRunner(with, SyntheticTasks.Two(), resumed).Run();
        Assert.Equal(
            ForgettingReport.Read(Path.Combine(probed, ForgettingReport.FileName)).Points.Select(p => (p.Step, p.NewDomainLoss, p.Perplexity["general"])),
            ForgettingReport.Read(Path.Combine(resumed, ForgettingReport.FileName)).Points.Select(p => (p.Step, p.NewDomainLoss, p.Perplexity["general"])));
    }

    [Fact]
    public void A_missing_benchmark_stops_the_run_before_training()
    {
        Recipe bad = Recipe(null) with { Forgetting = new ForgettingSettings { MultipleChoice = [Path.Combine(root, "nope.jsonl")] } };
        var e = Assert.Throws<MiguUserException>(() => new ContinualRunner(bad, SyntheticTasks.Two(), Path.Combine(root, "bad")).Run());
        Assert.Contains("nope.jsonl: no such multiple-choice file", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(Path.Combine(root, "bad"))); // so the corrected recipe starts afresh
    }

    [Fact]
    public void A_data_parallel_job_is_refused_before_the_run_directory_exists()
    {
        using var group = new Migu.Core.Distributed.SingleProcessGroup(TorchSharp.torch.CPU);
        string dir = Path.Combine(root, "parallel");
        var e = Assert.Throws<MiguUserException>(() => new ContinualRunner(Recipe(null), SyntheticTasks.Two(), dir, processGroup: group).Run());
        Assert.Contains("forgetting probe runs in one process", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir));
    }

    private string Text()
    {
        string path = Path.Combine(root, "general.txt");
        File.WriteAllLines(path, ["The weather was mild and the river ran slowly past the town.", "Markets opened early and closed before the evening rain.", "A small boat crossed the lake while children watched from the shore."]);
        return path;
    }

    private static string[] LossColumn(string dir) =>
        [.. File.ReadAllLines(Path.Combine(dir, "loss.csv")).Skip(1).Select(l => string.Join(',', l.Split(',')[..7]))];

    private sealed class CancelAt(int task, int step, CancellationTokenSource cancel) : IRunObserver
    {
        public void StepDone(Migu.Continual.Training.StepRecord record, double tokensPerSecond)
        {
            if (record.TaskIndex == task && record.Step + 1 == step)
            {
                cancel.Cancel();
            }
        }

        public void TrainingStarted(int index, int count, string name, int totalSteps, int startStep)
        {
        }

        public void EvaluationStarted(string title, int prompts)
        {
        }

        public void EvaluationProgress(int prompts)
        {
        }

        public void EvaluationFinished()
        {
        }

        public void PhaseFinished(int index, RunMetrics metrics)
        {
        }

        public void Info(string message)
        {
        }
    }
}
