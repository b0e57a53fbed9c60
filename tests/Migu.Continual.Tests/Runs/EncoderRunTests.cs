using Migu.Continual.Data;
using Migu.Continual.Prompts;
using Migu.Continual.Recipes;
using Migu.Continual.Runs;
using Migu.Continual.Strategies;
using Migu.Continual.Training;
using Migu.Core;
using Migu.Models;
using Migu.Models.Bert;
using static TorchSharp.torch;

namespace Migu.Continual.Tests.Runs;

/// <summary>
/// Continual fine-tuning of encoders: one classification head over the union of the run's labels,
/// answers by arg-max over every label, every method, MIGU with or without the head.
/// </summary>
public sealed class EncoderRunTests : IDisposable
{
    private static readonly string[] SharedLabels = ["red", "blue", "amber"];
    private readonly string root = Directory.CreateTempSubdirectory("migu-encoder").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private static Recipe Tiny(string method = "ft", MiguOptions? migu = null, string model = "bert-tiny") => new()
    {
        Tasks = ["colors", "animals"],
        Model = model,
        Method = method,
        Migu = migu,
        Lora = new LoraSettings { Rank = 2, Alpha = 4 },
        Replay = new ReplaySettings { Fraction = 0.25, Base = method == "replay" ? "lora" : "ft" },
        Ewc = new EwcSettings { FisherSamples = 4 },
        Training = new TrainingSettings { Lr = 3e-3, Batch = 4, MaxSourceLength = 16, CheckpointEvery = 2 },
        Eval = new EvalSettings { Batch = 5 },
        Seed = 3,
    };

    /// <summary>Two tasks that share the label "red": three classes in all, not four.</summary>
    private static IReadOnlyList<LoadedTask> Shared(int train = 16, int test = 8) =>
    [
        new(SyntheticTasks.Data("colors", ["red", "blue"], train, test, 1), new PromptBuilder()),
        new(SyntheticTasks.Data("alarms", ["red", "amber"], train, test, 2), new PromptBuilder()),
    ];

    public static TheoryData<string, string> Methods()
    {
        var data = new TheoryData<string, string>();
        foreach (string method in ContinualMethods.All.Select(m => m.Name))
        {
            data.Add(method, "off");
            data.Add(method, "all,head");
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Methods))]
    public void Every_method_fine_tunes_an_encoder_classifier_task_after_task(string method, string migu)
    {
        MiguOptions? options = migu == "off" ? null : new MiguOptions { Threshold = 0.5, Layers = migu };
        RunMetrics m = new ContinualRunner(Tiny(method, options), SyntheticTasks.Two(), Path.Combine(root, method)).Run();

        Assert.True(m.Finished);
        Assert.Equal(method == "mtl" ? 1 : 2, m.AccuracyMatrix.Count);
        Assert.All(m.AccuracyMatrix.SelectMany(r => r), a => Assert.InRange(a, 0, 1));
        Assert.All(m.Timings, t => Assert.True(t.Steps > 0 && t.TrainTokens > 0));
    }

    public static TheoryData<string> MethodNames() => [.. ContinualMethods.All.Select(m => m.Name)];

    [Theory]
    [MemberData(nameof(MethodNames))]
    public void Every_method_trains_the_head_at_a_multiple_of_the_learning_rate_with_migu_too(string method)
    {
        Recipe recipe = Tiny(method, new MiguOptions { Threshold = 0.5 }) with { Training = Tiny().Training with { HeadLrScale = 20 } };

        RunMetrics m = new ContinualRunner(recipe, SyntheticTasks.Two(), Path.Combine(root, method)).Run();

        Assert.True(m.Finished);
        Assert.Equal(20, RecipeJson.Load(Path.Combine(root, method, RunStore.RecipeFile)).Training.HeadLrScale);
    }

    [Fact]
    public void The_head_learning_rate_multiple_scales_the_heads_steps_and_not_the_encoders()
    {
        const string Head = "classifier.weight";
        const string Block = "bert.encoder.layer.0.attention.self.query.weight";
        Dictionary<string, Tensor> start = TrainedWeights("start", lr: 0, scale: null); // AdamW at lr 0 leaves the initial weights
        Dictionary<string, Tensor> plain = TrainedWeights("plain", lr: 1e-5, scale: null);
        Dictionary<string, Tensor> scaled = TrainedWeights("scaled", lr: 1e-5, scale: 30);
        double Moved(Dictionary<string, Tensor> w, string key) => (w[key] - start[key]).abs().max().item<float>();

        Assert.True(Moved(plain, Head) > 0 && Moved(plain, Block) > 0);
        Assert.InRange(Moved(scaled, Head) / Moved(plain, Head), 15, 45); // AdamW's step is about lr per element: 30× the rate, about 30× as far
        Assert.InRange(Moved(scaled, Block) / Moved(plain, Block), 0.5, 2);
    }

    [Theory]
    [InlineData("llama-tiny", 10, "generate their answers")]
    [InlineData("bert-tiny", 0, "must be a finite number > 0")]
    public void A_head_learning_rate_multiple_is_refused_where_it_cannot_apply_before_anything_is_written(string model, double scale, string message)
    {
        string dir = Path.Combine(root, "refused");
        Recipe recipe = Tiny(model: model) with { Training = Tiny().Training with { HeadLrScale = scale } };

        var e = Assert.Throws<MiguUserException>(() => new ContinualRunner(recipe, SyntheticTasks.Two(), dir).Run());

        Assert.Contains("training.head_lr_scale", e.Message, StringComparison.Ordinal);
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public void The_head_is_one_row_per_distinct_label_and_answers_may_be_any_tasks_label()
    {
        IReadOnlyList<LoadedTask> tasks = Shared();
        Assert.Equal(["red", "blue", "amber"], ClassificationTasks.UnionLabels(tasks));

        string dir = Path.Combine(root, "shared");
        new ContinualRunner(Tiny() with { Tasks = ["colors", "alarms"] }, tasks, dir).Run();

        using LanguageModel saved = ModelLoader.Load(Path.Combine(dir, "checkpoints", "task-02-alarms"));
        var classifier = Assert.IsType<BertForSequenceClassification>(saved);
        Assert.Equal(["red", "blue", "amber"], classifier.Config.Id2Label);
        Assert.Equal(ClassifierPooling.Mean, classifier.Config.ClassifierPooling);

        // No task label at scoring time: colors' answers are drawn from all three labels, so a
        // prediction outside the task's own labels is possible and scored wrong, not mapped back.
        var predictions = File.ReadAllLines(Path.Combine(dir, "predictions", "after-02-alarms.jsonl"))
            .Select(l => System.Text.Json.JsonDocument.Parse(l).RootElement).ToList();
        Assert.All(predictions, p => Assert.Contains(p.GetProperty("prediction").GetString(), SharedLabels));
    }

    [Fact]
    public void The_encoder_reads_the_example_text_without_the_prompt_that_names_the_task()
    {
        LoadedTask task = SyntheticTasks.Two()[0];
        PromptedExample example = task.Train[0];
        Assert.Contains("Dataset:colors", example.Prompt, StringComparison.Ordinal);

        string text = ClassificationTasks.TextOf(example);

        Assert.Equal(task.Data.Train[0].Sentence, text);
        Assert.Equal("just a sentence", ClassificationTasks.TextOf(new PromptedExample("just a sentence", "red")));
    }

    [Fact]
    public void An_encoder_learns_a_task_whose_label_is_a_word_of_the_text()
    {
        var recipe = Tiny() with { Tasks = ["colors"], Training = Tiny().Training with { Epochs = 6 }, Eval = new EvalSettings { Batch = 8, Baseline = true } };
        IReadOnlyList<LoadedTask> one = [SyntheticTasks.Two(train: 48, test: 24)[0]];

        RunMetrics m = new ContinualRunner(recipe, one, Path.Combine(root, "learn")).Run();

        Assert.True(m.AccuracyMatrix[0][0] >= 0.9, $"accuracy after training {m.AccuracyMatrix[0][0]:P0}");
        Assert.True(m.AccuracyMatrix[0][0] > m.BaselineAccuracy![0] + 0.3);
    }

    [Theory]
    [InlineData("ft")]
    [InlineData("inclora")]
    public void A_run_killed_after_a_task_or_mid_task_resumes_to_the_same_result(string method)
    {
        Recipe recipe = Tiny(method, new MiguOptions { Threshold = 0.5, Layers = "all,head", Mode = MiguMode.Update });
        RunMetrics expected = new ContinualRunner(recipe, SyntheticTasks.Two(), Path.Combine(root, "whole")).Run();

        string between = Path.Combine(root, "between");
        Assert.Throws<OperationCanceledException>(() => new ContinualRunner(recipe, SyntheticTasks.Two(), between, new StopAfterTask(0)).Run());
        RunMetrics resumedBetween = new ContinualRunner(recipe, SyntheticTasks.Two(), between).Run();

        string midway = Path.Combine(root, "midway");
        using var cancel = new CancellationTokenSource();
        Assert.Throws<OperationCanceledException>(() => new ContinualRunner(recipe, SyntheticTasks.Two(), midway, new CancelAtStep(1, 3, cancel)).Run(cancel.Token));
        RunMetrics resumedMidway = new ContinualRunner(recipe, SyntheticTasks.Two(), midway).Run();

        foreach (RunMetrics m in new[] { resumedBetween, resumedMidway })
        {
            Assert.Equal(expected.AccuracyMatrix, m.AccuracyMatrix);
            Assert.Equal(expected.MacroF1Matrix, m.MacroF1Matrix);
        }
    }

    [Fact]
    public void With_adapters_the_head_trains_and_is_saved_beside_them()
    {
        string dir = Path.Combine(root, "lora");
        new ContinualRunner(Tiny("lora"), SyntheticTasks.Two(), dir).Run();

        string checkpoint = Path.Combine(dir, "checkpoints", "task-02-animals");
        Assert.True(File.Exists(Path.Combine(checkpoint, LoraStrategy.HeadFile)));
        Dictionary<string, Tensor> head = Migu.Models.Checkpoints.StateDictFiles.LoadSafeTensorsFile(Path.Combine(checkpoint, LoraStrategy.HeadFile));
        using Tensor fresh = ModelLoader.LoadClassifier("bert-tiny", null, ["red", "blue", "green", "cat", "dog"]).Model.state_dict()["classifier.weight"];
        Assert.Equal(["classifier.bias", "classifier.weight"], head.Keys.Order(StringComparer.Ordinal));
        Assert.Equal([5L, fresh.shape[1]], head["classifier.weight"].shape);
    }

    [Fact]
    public void Migu_head_selection_masks_the_classifier_with_full_fine_tuning_and_with_adapters()
    {
        using LanguageModel model = ModelLoader.LoadClassifier("bert-tiny", null, ["a", "b", "c", "d"]).Model;
        var options = new MiguOptions { Layers = "all,head" };
        using (var ft = new FullFineTuning(model, freezeEmbeddings: false))
        {
            ft.BeginTask(0);
            Assert.Contains(ft.MiguTargets(options), t => t.Name == "classifier.weight");
            Assert.DoesNotContain(ft.MiguTargets(new MiguOptions()), t => t.Name == "classifier.weight");
        }

        using var lora = new LoraStrategy(model, new LoraSettings { Rank = 2 }, incremental: false, seed: 1, baseModel: null);
        IReadOnlyList<TorchSharp.Modules.Parameter> trained = lora.BeginTask(0);
        Assert.Contains(trained, p => ReferenceEquals(p, model.get_parameter("classifier.weight")));
        Assert.Contains(lora.MiguTargets(options), t => t.Name == "classifier.weight");
    }

    [Fact]
    public void The_forgetting_probe_is_refused_for_an_encoder_before_anything_is_written()
    {
        string dir = Path.Combine(root, "probe");
        Recipe recipe = Tiny() with { Forgetting = new Migu.Continual.Forgetting.ForgettingSettings { Perplexity = ["x.txt"] } };

        var e = Assert.Throws<MiguUserException>(() => new ContinualRunner(recipe, SyntheticTasks.Two(), dir).Run());

        Assert.Contains("encoder", e.Message, StringComparison.Ordinal);
        Assert.False(Directory.Exists(dir));
    }

    [Fact]
    public void A_roberta_encoder_runs_the_same_way()
    {
        RunMetrics m = new ContinualRunner(Tiny(model: "roberta-tiny"), SyntheticTasks.Two(), Path.Combine(root, "roberta")).Run();

        Assert.Equal(2, m.AccuracyMatrix.Count);
    }

    /// <summary>The model after one epoch of the first task at <paramref name="lr"/>, the head at <paramref name="scale"/> × it.</summary>
    private Dictionary<string, Tensor> TrainedWeights(string name, double lr, double? scale)
    {
        Recipe recipe = Tiny() with { Tasks = ["colors"], Training = Tiny().Training with { Lr = lr, HeadLrScale = scale }, Eval = new EvalSettings { Batch = 8, Baseline = false } };
        string dir = Path.Combine(root, name);
        new ContinualRunner(recipe, [SyntheticTasks.Two()[0]], dir).Run();
        using LanguageModel model = ModelLoader.Load(Path.Combine(dir, "checkpoints", "task-01-colors"));
        return model.state_dict().ToDictionary(kv => kv.Key, kv => kv.Value.detach().clone());
    }

    private sealed class StopAfterTask(int task) : Observer
    {
        public override void PhaseFinished(int index, RunMetrics metrics)
        {
            if (index == task)
            {
                throw new OperationCanceledException();
            }
        }
    }

    private sealed class CancelAtStep(int task, int step, CancellationTokenSource cancel) : Observer
    {
        public override void StepDone(StepRecord record, double tokensPerSecond)
        {
            if (record.TaskIndex == task && record.Step + 1 == step)
            {
                cancel.Cancel();
            }
        }
    }

    private abstract class Observer : IRunObserver
    {
        public void TrainingStarted(int index, int count, string name, int totalSteps, int startStep)
        {
        }

        public virtual void StepDone(StepRecord step, double tokensPerSecond)
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
