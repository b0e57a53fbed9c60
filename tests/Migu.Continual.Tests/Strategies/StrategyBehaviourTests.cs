using Migu.Continual.Prompts;
using Migu.Continual.Recipes;
using Migu.Continual.Runs;
using Migu.Continual.Strategies;
using Migu.Continual.Training;
using Migu.Core;
using Migu.Core.Optim;
using Migu.Models;
using Migu.Models.Tokenizers;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Continual.Tests.Strategies;

/// <summary>What each strategy trains, keeps and adds, checked on a tiny Llama and two tiny tasks.</summary>
public sealed class StrategyBehaviourTests : IDisposable
{
    private readonly LanguageModel model;
    private readonly ExampleEncoder encoder;
    private readonly IReadOnlyList<LoadedTask> tasks = SyntheticTasks.Two(train: 20, test: 4);

    public StrategyBehaviourTests()
    {
        manual_seed(11);
        (model, ITextTokenizer tokenizer) = ModelLoader.LoadWithTokenizer("llama-tiny", null, CPU);
        encoder = new ExampleEncoder(tokenizer, model.Family, 48, 4);
    }

    public void Dispose() => model.Dispose();

    [Fact]
    public void Ft_trains_every_parameter_and_freezing_keeps_the_embeddings_bit_identical()
    {
        using var strategy = new FullFineTuning(model, freezeEmbeddings: true);
        var before = Snapshot();
        Train(strategy, 0);
        var after = Snapshot();
        foreach (var (name, value) in before)
        {
            bool same = value.SequenceEqual(after[name]);
            Assert.True(FullFineTuning.IsEmbedding(name) ? same : !same, $"{name} changed: {!same}");
        }
    }

    [Fact]
    public void Lora_keeps_the_base_bit_identical_and_inclora_keeps_earlier_adapters()
    {
        using var strategy = new LoraStrategy(model, new LoraSettings { Rank = 2, Alpha = 4, Dropout = 0 }, incremental: true, seed: 1, baseModel: null);
        var baseBefore = Snapshot();
        Train(strategy, 0);
        float[] task1A = Values(strategy.Lora.Weights("task1")[0].A);
        float[] task1B = Values(strategy.Lora.Weights("task1")[0].B);
        Assert.Contains(task1B, v => v != 0); // B left zero: it trained

        Train(strategy, 1);

        Assert.Equal(task1A, Values(strategy.Lora.Weights("task1")[0].A));
        Assert.Equal(task1B, Values(strategy.Lora.Weights("task1")[0].B));
        Assert.Contains(Values(strategy.Lora.Weights("task2")[0].B), v => v != 0);
        Assert.Equal(["task1", "task2"], strategy.Lora.ActiveAdapters);
        foreach (var (name, value) in Snapshot())
        {
            Assert.True(value.SequenceEqual(baseBefore[name]), $"base weight {name} moved");
        }
    }

    [Fact]
    public void Olora_terms_equal_the_hand_computation()
    {
        var settings = new LoraSettings { Rank = 2, Alpha = 4, Dropout = 0 };
        using var strategy = new OLoraStrategy(model, settings, seed: 5, baseModel: null, _ => (0.5, 0.25));
        Train(strategy, 0);
        strategy.BeginTask(1);
        using (no_grad())
        {
            foreach (var (_, _, b) in strategy.Lora.Weights("task2"))
            {
                b.normal_(); // B starts at zero; give the L2 term something to measure
            }
        }

        double expected = 0;
        var oldWeights = strategy.Lora.Weights("task1");
        var newWeights = strategy.Lora.Weights("task2");
        for (int l = 0; l < oldWeights.Count; l++)
        {
            double[,] a = Matrix(oldWeights[l].A), n = Matrix(newWeights[l].A);
            for (int i = 0; i < a.GetLength(0); i++)
            {
                for (int j = 0; j < n.GetLength(0); j++)
                {
                    double dot = 0;
                    for (int k = 0; k < a.GetLength(1); k++)
                    {
                        dot += a[i, k] * n[j, k];
                    }

                    expected += 0.5 * Math.Abs(dot);
                }
            }

            expected += 0.25 * (Norm(newWeights[l].A) + Norm(newWeights[l].B));
        }

        using Tensor extra = strategy.ExtraLoss(1)!;
        Assert.Equal(expected, extra.item<float>(), expected * 1e-5);

    }

    [Fact]
    public void Ewc_fisher_is_the_mean_squared_per_example_gradient_and_the_penalty_matches()
    {
        using var strategy = new ElasticWeightConsolidation(model, freezeEmbeddings: false, lambda: 3.0, fisherSamples: 1000);
        Train(strategy, 0);
        var own = tasks[0].Train.Select(encoder.Encode).ToList();
        strategy.EndTask(new TaskEndContext(0, own.Count, indices => Loss([.. indices.Select(i => own[i])]), 1));

        // Hand: per-example gradients of one weight, squared and averaged.
        Parameter w = model.named_parameters().First(p => p.name.EndsWith("mlp.down_proj.weight", StringComparison.Ordinal)).parameter;
        string wName = model.named_parameters().First(p => ReferenceEquals(p.parameter, w)).name;
        var sum = new double[w.numel()];
        model.eval();
        foreach (EncodedExample e in own)
        {
            foreach (Parameter p in model.parameters())
            {
                p.grad?.zero_();
            }

            Loss([e]).backward();
            float[] g = Values(w.grad!);
            for (int i = 0; i < g.Length; i++)
            {
                sum[i] += (double)g[i] * g[i] / own.Count;
            }
        }

        float[] fisher = Values(strategy.FisherOf(wName)!);
        for (int i = 0; i < fisher.Length; i += 97)
        {
            Assert.Equal(sum[i], fisher[i], Math.Max(1e-9, sum[i] * 1e-3));
        }

        Assert.Equal(0.0, strategy.ExtraLoss(1)!.item<float>()); // at the anchor
        using (no_grad())
        {
            w.add_(0.01);
        }

        double expected = 3.0 / 2 * Values(strategy.FisherOf(wName)!).Sum(f => f * 0.01 * 0.01);
        Assert.Equal(expected, strategy.ExtraLoss(1)!.item<float>(), expected * 1e-3);
    }

    [Fact]
    public void Replay_mixes_a_fixed_stratified_sample_of_each_past_task()
    {
        var replay = new ReplayStrategy(new FullFineTuning(model, false), fraction: 0.25, seed: 9);
        var first = replay.TrainingData(1, tasks);
        var again = new ReplayStrategy(new FullFineTuning(model, false), 0.25, 9).TrainingData(1, tasks);
        var otherSeed = new ReplayStrategy(new FullFineTuning(model, false), 0.25, 10).TrainingData(1, tasks);

        Assert.Equal(tasks[1].Train.Count + 5, first.Count); // round(0.25 · 20) of task 0
        Assert.Equal(first, again);
        Assert.NotEqual(first, otherSeed);
        Assert.All(first.Skip(tasks[1].Train.Count), e => Assert.Contains(e, tasks[0].Train));
        Assert.Equal(tasks[0].Train, replay.TrainingData(0, tasks)); // nothing to replay yet
    }

    [Fact]
    public void The_random_baseline_is_migu_with_a_random_source()
    {
        MiguOptions random = ContinualMethods.MiguOptionsFor(new Recipe { Method = "random", Seed = 4 })!;
        Assert.Equal(MaskSource.Random, random.Source);
        Assert.Equal(0.7, random.Threshold);
        Assert.Null(ContinualMethods.MiguOptionsFor(new Recipe { Method = "ft" }));
    }

    private Tensor Loss(IReadOnlyList<EncodedExample> examples) => model.forward(encoder.Collate(examples, CPU)).Loss!;

    private void Train(IContinualStrategy strategy, int task)
    {
        IReadOnlyList<Parameter> parameters = strategy.BeginTask(task);
        using var optimizer = new RowMaskedAdamW(parameters, 1e-2);
        var plan = new TaskTrainingPlan
        {
            TaskIndex = task,
            TaskName = tasks[task].Name,
            Data = new EncodedTaskData([.. strategy.TrainingData(task, tasks).Select(encoder.Encode)], encoder),
            Batch = 5,
            Seed = 3,
        };
        new TaskTrainer(model, CPU).Train(plan, optimizer, null, () => strategy.ExtraLoss(task), 0, _ => { });
    }

    private Dictionary<string, float[]> Snapshot() => model.named_parameters().ToDictionary(p => p.name, p => Values(p.parameter));

    private static float[] Values(Tensor t) => t.detach().cpu().to(ScalarType.Float32).data<float>().ToArray();

    private static double[,] Matrix(Tensor t)
    {
        float[] v = Values(t);
        var m = new double[t.shape[0], t.shape[1]];
        for (int i = 0; i < v.Length; i++)
        {
            m[i / t.shape[1], i % t.shape[1]] = v[i];
        }

        return m;
    }

    private static double Norm(Tensor t) => Math.Sqrt(Values(t).Sum(v => (double)v * v));
}
