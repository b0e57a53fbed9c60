using Migu.Continual.Data;
using Migu.Continual.Pretraining;
using Migu.Continual.Recipes;
using Migu.Continual.Runs;
using Migu.Core;
using Migu.Models;
using Migu.Models.Llama;
using Migu.Models.Roberta;
using Migu.Models.T5;

namespace Migu.Continual.Tests.Pretraining;

public sealed class ContinualPretrainingRunnerTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("migu-das").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    /// <summary>Two synthetic domains, a tiny model, a few steps each: seconds on a CPU.</summary>
    private static Recipe Das(string model = "roberta-tiny", string method = "ft", MiguOptions? migu = null, bool afterEach = true) => new()
    {
        Model = model,
        Method = method,
        Migu = migu,
        Training = new TrainingSettings { Lr = 2e-3, Batch = 4, CheckpointEvery = 2, MaxSourceLength = 48, MaxTargetLength = 6 },
        Pretrain = new PretrainSettings { SeqLen = 24, Steps = 5, HeldOutFraction = 0.1 },
        EndTasks = new EndTaskSettings { AfterEachDomain = afterEach, Epochs = 1, Batch = 8, Lr = 1e-3, MaxLength = 24 },
        Eval = new EvalSettings { Batch = 16, MaxNewTokens = 3 },
        Seed = 5,
    };

    [Fact]
    public void A_roberta_run_with_migu_pretrains_each_domain_and_scores_every_end_task_after_each()
    {
        string dir = Path.Combine(root, "das");
        RunMetrics m = new ContinualRunner(Das(migu: new MiguOptions { Threshold = 0.5 }), SyntheticTasks.Two(), dir).Run();

        Assert.True(m.Finished);
        Assert.Equal(["colors", "animals"], m.Tasks);
        Assert.Equal(2, m.AccuracyMatrix.Count);
        Assert.All(m.AccuracyMatrix.Concat(m.MacroF1Matrix), row => Assert.Equal(2, row.Count));
        Assert.NotNull(m.BaselineAccuracy);
        Assert.NotNull(m.Bwt);
        Assert.Equal(m.AccuracyMatrix[^1].Average(), m.Acc!.Value, 12);
        Assert.All(m.Timings, t => Assert.Equal(5, t.Steps));

        PretrainingReport report = PretrainingReport.Read(Path.Combine(dir, PretrainingReport.FileName))!;
        Assert.Equal("mlm", report.Objective);
        Assert.Equal(2, report.HeldOutLoss.Count);
        Assert.All(report.HeldOutLoss.Append(report.HeldOutLossBaseline!), row => Assert.All(row, v => Assert.True(v is > 0)));
        string[] loss = File.ReadAllLines(Path.Combine(dir, "loss.csv"));
        Assert.Equal(RunStore.LossHeader, loss[0]);
        Assert.Equal(11, loss.Length);
        Assert.True(File.Exists(Path.Combine(dir, "predictions", "after-02-animals.jsonl")));

        // Each domain checkpoint is a Hugging Face masked LM with its tokenizer (<mask> included).
        string checkpoint = Path.Combine(dir, "checkpoints", "task-02-animals");
        using LanguageModel reloaded = ModelLoader.Load(checkpoint);
        Assert.IsType<RobertaForMaskedLM>(reloaded);
        Assert.NotNull(ObjectiveTokens.Of(Migu.Models.Tokenizers.TokenizerLoader.Load(checkpoint)).Mask);
    }

    [Fact]
    public void End_tasks_after_the_last_domain_only_give_one_row()
    {
        RunMetrics m = new ContinualRunner(Das(afterEach: false) with { Eval = new EvalSettings { Batch = 16, Baseline = false } }, SyntheticTasks.Two(), Path.Combine(root, "last")).Run();
        Assert.True(m.Finished);
        Assert.Single(m.AccuracyMatrix);
        Assert.Null(m.BaselineAccuracy);
        Assert.Equal(2, m.Timings.Count);
        Assert.Equal(m.AccuracyMatrix[0].Average(), m.Acc!.Value, 12);
    }

    [Theory]
    [InlineData("ft", true)]
    [InlineData("ewc", false)]
    [InlineData("replay", true)]
    [InlineData("lora", true)]
    public void A_run_stopped_mid_domain_resumes_to_the_same_losses_and_scores(string method, bool withMigu)
    {
        Recipe recipe = Das(method: method, migu: withMigu ? new MiguOptions { Threshold = 0.5, Mode = MiguMode.Update } : null)
            with { Replay = new ReplaySettings { Fraction = 0.5 } };
        RunMetrics expected = new ContinualRunner(recipe, SyntheticTasks.Two(), Path.Combine(root, "whole")).Run();

        string midway = Path.Combine(root, "midway");
        using var cancel = new CancellationTokenSource();
        Assert.Throws<OperationCanceledException>(() => new ContinualRunner(recipe, SyntheticTasks.Two(), midway, new CancelAtStep(1, 3, cancel)).Run(cancel.Token));
        Assert.True(File.Exists(Path.Combine(midway, "checkpoints", "mid", "mid.json")));
        RunMetrics resumed = new ContinualRunner(recipe, SyntheticTasks.Two(), midway).Run();

        Assert.Equal(expected.AccuracyMatrix, resumed.AccuracyMatrix);
        Assert.Equal(expected.MacroF1Matrix, resumed.MacroF1Matrix);
        Assert.Equal(LossColumn(Path.Combine(root, "whole")), LossColumn(midway));
        Assert.Equal(
            PretrainingReport.Read(Path.Combine(root, "whole", PretrainingReport.FileName))!.HeldOutLoss,
            PretrainingReport.Read(Path.Combine(midway, PretrainingReport.FileName))!.HeldOutLoss);
    }

    [Theory]
    [InlineData("t5-tiny", "span", EndTaskMode.Generate)]
    [InlineData("llama-tiny", "causal", EndTaskMode.Rank)]
    public void Encoder_decoders_and_decoders_pretrain_with_their_own_objective(string model, string objective, EndTaskMode mode)
    {
        Recipe recipe = Das(model, migu: new MiguOptions { Threshold = 0.7 }) with
        {
            EndTasks = new EndTaskSettings { Mode = mode, Epochs = 1, Batch = 8 },
            Eval = new EvalSettings { Batch = 16, MaxNewTokens = 3, Baseline = false },
        };
        string dir = Path.Combine(root, model);
        RunMetrics m = new ContinualRunner(recipe, SyntheticTasks.Two(), dir).Run();
        Assert.True(m.Finished);
        Assert.Single(m.AccuracyMatrix);
        Assert.Equal(objective, PretrainingReport.Read(Path.Combine(dir, PretrainingReport.FileName))!.Objective);
        using LanguageModel reloaded = ModelLoader.Load(Path.Combine(dir, "checkpoints", "task-02-animals"));
        Assert.Same(model.StartsWith("t5", StringComparison.Ordinal) ? T5Family.Instance : LlamaFamily.Instance, reloaded.Family);
    }

    [Fact]
    public void A_data_parallel_job_is_refused_before_the_run_directory_exists()
    {
        using var group = new Migu.Core.Distributed.SingleProcessGroup(TorchSharp.torch.CPU);
        string dir = Path.Combine(root, "parallel");
        var e = Assert.Throws<MiguUserException>(() => new ContinualRunner(Das(), SyntheticTasks.Two(), dir, processGroup: group).Run());
        Assert.Contains("continual pre-training runs in one process", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public void Sentences_an_end_task_is_scored_on_are_left_out_of_its_corpus()
    {
        // A dev split carved from train (dev_fraction) is scored; without care its sentences were
        // also pre-trained on, since the corpus is the whole training file.
        using var data = new Migu.Continual.Tests.Data.TempDataRoot();
        string[] words = ["red", "green", "blue", "cyan", "pink"];
        Example[] train = [.. Enumerable.Range(0, 40).Select(i => new Example($"sentence {i} is {words[i % 5]} and long enough", i % 2 == 0 ? "even" : "odd"))];
        data.AddTask("TC", "toy", ["even", "odd"], train, [.. train.Take(4).Select(e => e with { Sentence = "test " + e.Sentence })]);
        Recipe recipe = Das() with
        {
            Data = data.Root,
            Tasks = ["toy"],
            DataOptions = new DataSettings { DevFraction = 0.25 },
            Eval = new EvalSettings { Batch = 16, Split = "dev", Baseline = false },
            Pretrain = new PretrainSettings { SeqLen = 24, Steps = 2, HeldOutFraction = 0.1 },
        };
        string dir = Path.Combine(root, "leak");
        new ContinualRunner(recipe, RunTasks.Load(recipe), dir).Run();

        PretrainingReport report = PretrainingReport.Read(Path.Combine(dir, PretrainingReport.FileName))!;
        Assert.Equal(30, report.TrainDocuments[0] + report.HeldOutDocuments[0]); // 40 in train.json, 10 of them the scored dev split
    }

    [Fact]
    public void Training_settings_a_run_cannot_start_with_are_refused_before_any_directory()
    {
        var tasks = SyntheticTasks.Two();
        Assert.Contains("training.batch must be at least 1, got 0",
            Assert.Throws<MiguUserException>(() => new ContinualRunner(Das() with { Training = Das().Training with { Batch = 0 } }, tasks, Path.Combine(root, "a")).Run()).Message, StringComparison.Ordinal);
        Assert.Contains("training.warmup_ratio must be in [0, 1), got 2",
            Assert.Throws<MiguUserException>(() => new ContinualRunner(Das() with { Training = Das().Training with { WarmupRatio = 2 } }, tasks, Path.Combine(root, "b")).Run()).Message, StringComparison.Ordinal);
        Assert.Contains("training.grad_accum (8) cannot exceed training.batch (4)",
            Assert.Throws<MiguUserException>(() => new ContinualRunner(Das() with { Training = Das().Training with { GradAccum = 8 } }, tasks, Path.Combine(root, "c")).Run()).Message, StringComparison.Ordinal);
        Recipe plain = Das() with { Pretrain = null, EndTasks = null, Training = Das().Training with { Epochs = 0 } };
        Assert.Contains("training.epochs must be at least 1, got 0",
            Assert.Throws<MiguUserException>(() => new ContinualRunner(plain, tasks, Path.Combine(root, "d")).Run()).Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(root));
    }

    [Fact]
    public void Mismatched_objectives_methods_and_modes_are_refused_before_training()
    {
        var tasks = SyntheticTasks.Two();
        Assert.Contains("objective span does not fit",
            Assert.Throws<MiguUserException>(() => new ContinualRunner(Das() with { Pretrain = new PretrainSettings { Objective = PretrainObjective.Span } }, tasks, Path.Combine(root, "a")).Run()).Message, StringComparison.Ordinal);
        Assert.Contains("not for continual pre-training",
            Assert.Throws<MiguUserException>(() => new ContinualRunner(Das(method: "olora"), tasks, Path.Combine(root, "b")).Run()).Message, StringComparison.Ordinal);
        Assert.Contains("head needs an encoder with a classification head",
            Assert.Throws<MiguUserException>(() => new ContinualRunner(Das("llama-tiny") with { EndTasks = new EndTaskSettings { Mode = EndTaskMode.Head } }, tasks, Path.Combine(root, "c")).Run()).Message, StringComparison.Ordinal);
        Recipe bf16 = Das() with { Training = Das().Training with { Dtype = TrainingDtype.Bf16 } };
        Assert.Contains("continual pre-training trains in fp32",
            Assert.Throws<MiguUserException>(() => new ContinualRunner(bf16, tasks, Path.Combine(root, "d")).Run()).Message, StringComparison.Ordinal);
        Assert.Empty(Directory.GetFileSystemEntries(root)); // refused before any run directory was made
    }

    private static string[] LossColumn(string dir) =>
        [.. File.ReadAllLines(Path.Combine(dir, "loss.csv")).Skip(1).Select(l => string.Join(',', l.Split(',')[..7]))];

    /// <summary>Cancels after step <paramref name="step"/> of domain <paramref name="domain"/>'s pre-training (not of an end task's fine-tuning).</summary>
    private sealed class CancelAtStep(int domain, int step, CancellationTokenSource cancel) : IRunObserver
    {
        private bool pretraining;

        public void StepDone(Migu.Continual.Training.StepRecord record, double tokensPerSecond)
        {
            if (pretraining && record.TaskIndex == domain && record.Step + 1 == step)
            {
                cancel.Cancel();
            }
        }

        public void TrainingStarted(int index, int count, string name, int totalSteps, int startStep) =>
            pretraining = !name.Contains("end task", StringComparison.Ordinal);

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
