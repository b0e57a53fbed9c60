using Migu.Continual.Recipes;
using Migu.Continual.Runs;
using Migu.Continual.Strategies;
using Migu.Core;
using Migu.Core.IO;

namespace Migu.Continual.Tests.Runs;

public sealed class RunnerTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("migu-run").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private static Recipe Tiny(string model = "llama-tiny", string method = "ft", MiguOptions? migu = null) => new()
    {
        Tasks = ["colors", "animals"],
        Model = model,
        Method = method,
        Migu = migu,
        Training = new TrainingSettings { Lr = 3e-3, Batch = 4, MaxSourceLength = 64, MaxTargetLength = 8, CheckpointEvery = 2 },
        Eval = new EvalSettings { Mode = EvalMode.Rank, Batch = 16 },
        Seed = 3,
    };

    [Theory]
    [InlineData("llama-tiny", EvalMode.Rank)]
    [InlineData("t5-tiny", EvalMode.Generate)]
    public void A_run_writes_the_whole_store_with_a_row_per_task(string model, EvalMode mode)
    {
        Recipe recipe = Tiny(model) with { Eval = new EvalSettings { Mode = mode, Batch = 16, MaxNewTokens = 4 } };
        string dir = Path.Combine(root, "run");

        RunMetrics m = new ContinualRunner(recipe, SyntheticTasks.Two(), dir).Run();

        Assert.True(m.Finished);
        Assert.Equal(["colors", "animals"], m.Tasks);
        Assert.Equal(2, m.AccuracyMatrix.Count);
        Assert.All(m.AccuracyMatrix, row => Assert.Equal(2, row.Count));
        Assert.NotNull(m.BaselineAccuracy);
        Assert.NotNull(m.Bwt);
        Assert.Equal(m.AccuracyMatrix[^1].Average(), m.Acc!.Value, 12);
        Assert.Equal(2, m.Timings.Count);
        Assert.All(m.Timings, t => Assert.True(t.Steps == 6 && t.TrainTokens > 0));
        foreach (string file in new[] { "recipe.json", "metrics.json", "loss.csv", "run.log", "predictions/after-02-animals.jsonl" })
        {
            Assert.True(File.Exists(Path.Combine(dir, file)), file);
        }

        Assert.True(File.Exists(Path.Combine(dir, "checkpoints", "task-01-colors", "model.safetensors")));
        Assert.True(File.Exists(Path.Combine(dir, "checkpoints", "task-02-animals", "tokenizer.json")));
        Assert.False(Directory.Exists(Path.Combine(dir, "checkpoints", "mid")));
        Assert.NotEmpty(Directory.GetFiles(Path.Combine(dir, "events")));
        string[] loss = File.ReadAllLines(Path.Combine(dir, "loss.csv"));
        Assert.Equal(RunStore.LossHeader, loss[0]);
        Assert.Equal(13, loss.Length); // 2 tasks × 6 steps
        Assert.Equal(["0", "0", "colors"], loss[1].Split(',')[..3]);
        Assert.Equal(["11", "1", "animals"], loss[^1].Split(',')[..3]);
    }

    [Fact]
    public void The_same_seed_gives_the_same_metrics_and_losses()
    {
        RunMetrics a = new ContinualRunner(Tiny(), SyntheticTasks.Two(), Path.Combine(root, "a")).Run();
        RunMetrics b = new ContinualRunner(Tiny(), SyntheticTasks.Two(), Path.Combine(root, "b")).Run();

        Assert.Equal(a.AccuracyMatrix, b.AccuracyMatrix);
        Assert.Equal(LossColumn(Path.Combine(root, "a")), LossColumn(Path.Combine(root, "b")));
    }

    /// <summary>Every registered method, MIGU on for some (random brings its own random masks, whose generator must resume too).</summary>
    public static TheoryData<string, bool> EveryMethod()
    {
        var data = new TheoryData<string, bool>();
        foreach (ContinualMethod method in ContinualMethods.All)
        {
            data.Add(method.Name, method.Name is "ewc" or "replay" or "lora" or "inclora");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(EveryMethod))]
    public void A_run_killed_between_tasks_or_mid_task_resumes_to_the_same_result(string method, bool withMigu)
    {
        int lastPhase = ContinualMethods.Get(method).JointPhase ? 0 : 1; // mtl trains once, on both tasks
        Recipe recipe = Tiny(method: method, migu: withMigu ? new MiguOptions { Threshold = 0.5, Mode = MiguMode.Update } : null)
            with { Replay = new ReplaySettings { Fraction = 0.25 } };
        string whole = Path.Combine(root, "whole");
        RunMetrics expected = new ContinualRunner(recipe, SyntheticTasks.Two(), whole).Run();

        // Killed after the first task committed.
        string between = Path.Combine(root, "between");
        Assert.Throws<KilledException>(() => new ContinualRunner(recipe, SyntheticTasks.Two(), between, new KillAfterPhase(0)).Run());
        Assert.Single(RunStore.ReadMetrics(Path.Combine(between, "metrics.json")).AccuracyMatrix);
        RunMetrics resumedBetween = new ContinualRunner(recipe, SyntheticTasks.Two(), between).Run();

        // Killed mid-task (cancelled at step 3 of the last phase: a mid-task checkpoint is written first).
        string midway = Path.Combine(root, "midway");
        using var cancel = new CancellationTokenSource();
        Assert.Throws<OperationCanceledException>(() => new ContinualRunner(recipe, SyntheticTasks.Two(), midway, new CancelAtStep(lastPhase, 3, cancel)).Run(cancel.Token));
        Assert.True(File.Exists(Path.Combine(midway, "checkpoints", "mid", "mid.json")));
        RunMetrics resumedMidway = new ContinualRunner(recipe, SyntheticTasks.Two(), midway).Run();

        foreach (RunMetrics m in new[] { resumedBetween, resumedMidway })
        {
            Assert.Equal(expected.AccuracyMatrix, m.AccuracyMatrix);
            Assert.Equal(expected.MacroF1Matrix, m.MacroF1Matrix);
            Assert.Equal(expected.Acc, m.Acc);
        }

        Assert.Equal(LossColumn(whole), LossColumn(between));
        Assert.Equal(LossColumn(whole), LossColumn(midway));
    }

    [Fact]
    public void A_different_recipe_on_an_existing_run_is_refused_naming_the_difference()
    {
        string dir = Path.Combine(root, "run");
        new ContinualRunner(Tiny(), SyntheticTasks.Two(), dir).Run();

        var e = Assert.Throws<MiguUserException>(() => new ContinualRunner(Tiny() with { Seed = 4 }, SyntheticTasks.Two(), dir).Run());
        Assert.Contains("$.seed: 3 in the run, 4 now", e.Message, StringComparison.Ordinal);

        // The device is not part of a run's identity.
        RunMetrics again = new ContinualRunner(Tiny() with { Device = "auto" }, SyntheticTasks.Two(), dir).Run();
        Assert.True(again.Finished);
    }

    [Fact]
    public void A_run_on_a_directory_another_run_holds_is_refused_and_writes_nothing()
    {
        string dir = Path.Combine(root, "run");
        new ContinualRunner(Tiny(), SyntheticTasks.Two(), dir).Run();
        string[] before = Listing(dir);

        // Another run of this process holds the directory (from another thread; CLI tests do it from another process).
        using var release = new ManualResetEventSlim();
        using var taken = new ManualResetEventSlim();
        var other = new Thread(() =>
        {
            using (DirectoryLock.Acquire(dir))
            {
                taken.Set();
                release.Wait();
            }
        });
        other.UnsafeStart();
        taken.Wait();
        try
        {
            var resumed = Assert.Throws<DirectoryInUseException>(() => new ContinualRunner(Tiny(), SyntheticTasks.Two(), dir).Run());
            var fresh = Assert.Throws<DirectoryInUseException>(() => new ContinualRunner(Tiny() with { Seed = 5 }, SyntheticTasks.Two(), dir).Run());
            Assert.Equal(Environment.ProcessId, resumed.HolderPid);
            Assert.Contains($"{dir} is in use by another migu process (pid {Environment.ProcessId}", fresh.Message, StringComparison.Ordinal);
            Assert.Equal(before.Append(DirectoryLock.FileName).Order(StringComparer.Ordinal), Listing(dir));
        }
        finally
        {
            release.Set();
            other.Join();
        }

        Assert.Equal(before, Listing(dir));
        Assert.True(new ContinualRunner(Tiny(), SyntheticTasks.Two(), dir).Run().Finished); // free again
        File.WriteAllText(Path.Combine(root, "file"), "x");
        Assert.Contains("is a file", Assert.Throws<MiguUserException>(() => new ContinualRunner(Tiny(), SyntheticTasks.Two(), Path.Combine(root, "file")).Run()).Message, StringComparison.Ordinal);
    }

    [Theory]
    [InlineData("llama-tiny")]
    [InlineData("t5-tiny")]
    public void A_label_the_answer_budget_or_max_new_tokens_cannot_hold_is_refused_naming_it_and_writing_nothing(string model)
    {
        const string Long = "a remarkably verbose label";
        IReadOnlyList<LoadedTask> tasks =
        [
            SyntheticTasks.Two()[0],
            new(SyntheticTasks.Data("moods", ["calm", Long], 8, 4, 3), new Migu.Continual.Prompts.PromptBuilder()),
        ];
        // Its tokens as the model must write them: after "Answer:" a decoder continues with a space.
        int tokens = Migu.Models.Tokenizers.EmbeddedTokenizer.Compact().Encode(model == "llama-tiny" ? " " + Long : Long, addSpecialTokens: false).Count;
        Assert.InRange(tokens, 3, 20);
        Recipe generating = Tiny(model) with
        {
            Training = Tiny().Training with { MaxTargetLength = tokens + 1 },
            Eval = new EvalSettings { Mode = EvalMode.Generate, MaxNewTokens = tokens - 1 },
        };
        string dir = Path.Combine(root, "run");

        var e = Assert.Throws<MiguUserException>(() => new ContinualRunner(generating, tasks, dir).Run());
        Assert.Equal($"eval.max_new_tokens {tokens - 1} cannot generate label '{Long}' of task moods ({tokens} tokens); raise eval.max_new_tokens, or score with --eval rank", e.Message);
        Assert.False(Directory.Exists(dir), "a run that cannot start writes nothing");

        var cut = Assert.Throws<MiguUserException>(() => new ContinualRunner(generating with { Training = generating.Training with { MaxTargetLength = tokens } }, tasks, dir).Run());
        Assert.Equal($"training.max_target_length {tokens} cannot hold label '{Long}' of task moods ({tokens + 1} tokens with EOS); raise --max-target-len", cut.Message);
        Assert.False(Directory.Exists(dir));

        // Exactly enough: the label's own tokens (EOS may be cut off), or ranking, which generates nothing.
        Recipe fits = generating with { Eval = generating.Eval with { MaxNewTokens = tokens }, Training = generating.Training with { Epochs = 1 } };
        Assert.True(new ContinualRunner(fits, tasks, Path.Combine(root, "fits")).Run().Finished);
        Recipe ranking = generating with { Eval = generating.Eval with { Mode = EvalMode.Rank }, Training = generating.Training with { Epochs = 1 } };
        Assert.True(new ContinualRunner(ranking, tasks, Path.Combine(root, "ranking")).Run().Finished);
    }

    [Theory]
    [InlineData("llama-tiny", "ft")]
    [InlineData("t5-tiny", "lora")]
    public void Bf16_weights_train_with_fp32_masters_and_resume_exactly(string model, string method)
    {
        Recipe recipe = Tiny(model, method, new MiguOptions { Threshold = 0.5, Mode = MiguMode.Update }) with
        {
            Training = Tiny().Training with { Dtype = TrainingDtype.Bf16 },
        };
        string whole = Path.Combine(root, "whole");
        RunMetrics expected = new ContinualRunner(recipe, SyntheticTasks.Two(), whole).Run();
        string midway = Path.Combine(root, "midway");
        using var cancel = new CancellationTokenSource();
        Assert.Throws<OperationCanceledException>(() => new ContinualRunner(recipe, SyntheticTasks.Two(), midway, new CancelAtStep(1, 3, cancel)).Run(cancel.Token));
        RunMetrics resumed = new ContinualRunner(recipe, SyntheticTasks.Two(), midway).Run();

        Assert.Equal(expected.AccuracyMatrix, resumed.AccuracyMatrix);
        Assert.Equal(LossColumn(whole), LossColumn(midway));
        string[] losses = LossColumn(whole);
        Assert.True(double.Parse(losses[^1].Split(',')[4], System.Globalization.CultureInfo.InvariantCulture)
            < double.Parse(losses[0].Split(',')[4], System.Globalization.CultureInfo.InvariantCulture), "bf16 training lowers the loss");
        string weights = method == "ft"
            ? Path.Combine(whole, "checkpoints", "task-02-animals", "model.safetensors")
            : Path.Combine(whole, "checkpoints", "base", "model.safetensors");
        Assert.True(File.Exists(weights));
    }

    [Fact]
    public void Multi_task_training_is_one_joint_phase_scored_on_every_task()
    {
        RunMetrics m = new ContinualRunner(Tiny(method: "mtl"), SyntheticTasks.Two(), Path.Combine(root, "mtl")).Run();
        Assert.Single(m.AccuracyMatrix);
        Assert.Equal(2, m.AccuracyMatrix[0].Count);
        Assert.Equal(12, m.Timings[0].Steps);
        Assert.Null(m.Bwt);
    }

    /// <summary>Every file under <paramref name="dir"/> with its size and time of last write, sorted.</summary>
    private static string[] Listing(string dir) =>
        [.. Directory.GetFiles(dir, "*", SearchOption.AllDirectories)
            .Select(f => Path.GetFileName(f) == DirectoryLock.FileName ? DirectoryLock.FileName : $"{Path.GetRelativePath(dir, f)} {new FileInfo(f).Length} {File.GetLastWriteTimeUtc(f).Ticks}")
            .Order(StringComparer.Ordinal)];

    /// <summary>Loss values in step order (the seconds column differs between runs).</summary>
    private static string[] LossColumn(string dir) =>
        [.. File.ReadAllLines(Path.Combine(dir, "loss.csv")).Skip(1).Select(l => string.Join(',', l.Split(',')[..7]))];

    private sealed class KilledException : Exception;

    private sealed class KillAfterPhase(int phase) : TestObserver
    {
        public override void PhaseFinished(int index, RunMetrics metrics)
        {
            if (index == phase)
            {
                throw new KilledException();
            }
        }
    }

    private sealed class CancelAtStep(int task, int step, CancellationTokenSource cancel) : TestObserver
    {
        public override void StepDone(Migu.Continual.Training.StepRecord record, double tokensPerSecond)
        {
            if (record.TaskIndex == task && record.Step + 1 == step)
            {
                cancel.Cancel();
            }
        }
    }

    private class TestObserver : IRunObserver
    {
        public virtual void TrainingStarted(int index, int count, string name, int totalSteps, int startStep)
        {
        }

        public virtual void StepDone(Migu.Continual.Training.StepRecord step, double tokensPerSecond)
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

        public virtual void PhaseFinished(int index, RunMetrics metrics)
        {
        }

        public void Info(string message)
        {
        }
    }
}
