using Migu.Continual.Data;
using Migu.Continual.Evaluation;
using Migu.Continual.Recipes;
using Migu.Continual.Runs;
using Migu.Continual.Strategies;
using Migu.Core;
using static TorchSharp.torch;

namespace Migu.Continual.Tests.Runs;

/// <summary>
/// `migu eval` on an encoder trained with adapters: the base encoder, the run checkpoint's adapters and
/// the head kept beside them make the classifier the run scored, so eval gives the run's accuracies.
/// </summary>
public sealed class EncoderEvalTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("migu-encoder-eval").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    private static Recipe Tiny(string method) => new()
    {
        Tasks = ["colors", "animals"],
        Model = "bert-tiny",
        Method = method,
        Lora = new LoraSettings { Rank = 2, Alpha = 4 },
        Training = new TrainingSettings { Lr = 3e-3, Batch = 4, MaxSourceLength = 16 },
        Eval = new EvalSettings { Batch = 5 },
        Seed = 3,
    };

    private (string Checkpoint, RunMetrics Metrics) Train(string method)
    {
        string dir = Path.Combine(root, method);
        RunMetrics metrics = new ContinualRunner(Tiny(method), SyntheticTasks.Two(), dir).Run();
        return (Path.Combine(dir, "checkpoints", "task-02-animals"), metrics);
    }

    [Theory]
    [InlineData("lora")]
    [InlineData("inclora")]
    public void The_base_encoder_with_a_checkpoints_adapters_scores_what_the_run_scored(string method)
    {
        var (checkpoint, metrics) = Train(method);
        string[] adapters = [.. Directory.GetDirectories(Path.Combine(checkpoint, LoraStrategy.AdaptersFolder)).Order(StringComparer.Ordinal)];
        Assert.Equal(method == "lora" ? 1 : 2, adapters.Length);
        Assert.Equal("[\"red\",\"blue\",\"green\",\"cat\",\"dog\"]", File.ReadAllText(Path.Combine(checkpoint, LoraStrategy.HeadLabelsFile)));

        // The run saved its preset base (random weights, seeded) beside its checkpoints.
        using EvalModel model = EvalModel.Load(Path.Combine(Path.GetDirectoryName(checkpoint)!, "base"), adapters, CPU);
        Assert.Equal(["red", "blue", "green", "cat", "dog"], model.Model.ClassLabels);
        Func<LoadedTask, IReadOnlyList<string>> answer = model.ClassifierAnswers(Tiny(method), CPU);
        IReadOnlyList<LoadedTask> tasks = SyntheticTasks.Two();
        for (int j = 0; j < tasks.Count; j++)
        {
            TaskScore score = TaskScore.Of(answer(tasks[j]), [.. tasks[j].Test.Select(p => p.Target)], tasks[j].Labels);
            Assert.Equal(metrics.AccuracyMatrix[^1][j], score.Accuracy, 12);
        }
    }

    [Fact]
    public void Without_the_head_or_its_labels_the_base_encoder_is_refused_in_one_line()
    {
        string checkpoint = Train("lora").Checkpoint;
        string adapter = Path.Combine(checkpoint, LoraStrategy.AdaptersFolder, LoraStrategy.SingleAdapter);

        File.Delete(Path.Combine(checkpoint, LoraStrategy.HeadLabelsFile));
        var noLabels = Assert.Throws<MiguUserException>(() => EvalModel.Load(Path.Combine(Path.GetDirectoryName(checkpoint)!, "base"), [adapter], CPU));
        Assert.Contains(LoraStrategy.HeadLabelsFile, noLabels.Message, StringComparison.Ordinal);

        File.WriteAllText(Path.Combine(checkpoint, LoraStrategy.HeadLabelsFile), "{\"red\": 1}");
        var badLabels = Assert.Throws<MiguUserException>(() => EvalModel.Load(Path.Combine(Path.GetDirectoryName(checkpoint)!, "base"), [adapter], CPU));
        Assert.Contains("not a JSON array of label strings", badLabels.Message, StringComparison.Ordinal);

        // An adapter folder copied out of its checkpoint has no head beside it, and a plain encoder
        // (the preset without a head, as an imported MiniLM) has none of its own.
        string alone = Path.Combine(root, "alone", "adapters", "default");
        Directory.CreateDirectory(alone);
        foreach (string file in Directory.GetFiles(adapter))
        {
            File.Copy(file, Path.Combine(alone, Path.GetFileName(file)));
        }

        var noHead = Assert.Throws<MiguUserException>(() => EvalModel.Load("bert-tiny", [alone], CPU));
        Assert.Contains(LoraStrategy.HeadFile, noHead.Message, StringComparison.Ordinal);
    }
}
