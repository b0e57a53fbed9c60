using Migu.Continual.Recipes;
using Migu.Continual.Strategies;
using Migu.Continual.Runs;
using Migu.Core;
using Migu.Core.Optim;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Continual.Tests.Strategies;

/// <summary>
/// Every strategy, with MIGU off and on in both modes, trains end to end on a tiny model, and every
/// optimizer step shows what MIGU changes on the weights it targets (the strategy's MIGU targets):
/// in update mode the masked rows are bit-identical after the step although their gradients are not
/// zero; in gradient mode the masked rows reach the optimizer with zero gradients; with MIGU off (or
/// in a skipped first task) every row with a gradient moves. Either MIGU assertion fails if the run
/// ignored MIGU (masks built but not applied, or not built).
/// </summary>
public sealed class StrategyMatrixTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("migu-matrix").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    public static TheoryData<string, string> Cases()
    {
        var data = new TheoryData<string, string>();
        foreach (string method in ContinualMethods.All.Select(m => m.Name))
        {
            foreach (string migu in new[] { "off", "gradient", "update" })
            {
                data.Add(method, migu);
            }
        }

        return data;
    }

    [Theory]
    [MemberData(nameof(Cases))]
    public void Trains_end_to_end_and_every_step_honours_the_MIGU_masks(string method, string migu)
    {
        var recipe = new Recipe
        {
            Tasks = ["colors", "animals"],
            Model = method == "olora" ? "t5-tiny" : "llama-tiny",
            Method = method,
            Migu = migu == "off" ? null : new MiguOptions { Threshold = 0.5, Mode = migu == "update" ? MiguMode.Update : MiguMode.Gradient },
            Lora = new LoraSettings { Rank = 2, Alpha = 4 },
            Replay = new ReplaySettings { Fraction = 0.2, Base = "lora" },
            Olora = new OLoraSettings { Lambda1 = 0.5, Lambda2 = 0.1 },
            Ewc = new EwcSettings { FisherSamples = 4 },
            Training = new TrainingSettings { Lr = 1e-3, Batch = 8, MaxSourceLength = 48, MaxTargetLength = 4 },
            Eval = new EvalSettings { Mode = EvalMode.Rank, Batch = 16, Baseline = false },
        };

        var watch = new MaskedRowsWatch();
        RunMetrics m = new ContinualRunner(recipe, SyntheticTasks.Two(train: 16, test: 4), Path.Combine(root, $"{method}-{migu}")) { WatchOptimizer = watch.Wrap }.Run();

        Assert.True(m.Finished);
        Assert.Equal(method == "mtl" ? 1 : 2, m.AccuracyMatrix.Count);
        Assert.All(m.AccuracyMatrix.SelectMany(r => r), a => Assert.InRange(a, 0, 1));
        Assert.All(m.Timings, t => Assert.True(t.Steps > 0 && t.TrainTokens > 0));
        string[] loss = File.ReadAllLines(Path.Combine(root, $"{method}-{migu}", "loss.csv"));
        Assert.All(loss.Skip(1), line => Assert.True(double.IsFinite(double.Parse(line.Split(',')[4], System.Globalization.CultureInfo.InvariantCulture))));

        // What each step showed (the per-step assertions are in MaskedRowsWatch): masked steps happened
        // exactly when MIGU (or the random baseline, which always masks) is on, and each assertion had
        // rows to bite on.
        bool masks = migu != "off" || method == "random";
        Assert.Equal(m.Timings.Sum(t => t.Steps), watch.Steps);
        Assert.Equal(masks, watch.MaskedSteps > 0);
        if (masks && recipe.Migu?.Mode == MiguMode.Update)
        {
            Assert.True(watch.HeldRowsWithMomentum > 0, "update mode never held a row that AdamW's momentum would have moved");
        }

        if (masks && recipe.Migu?.Mode != MiguMode.Update)
        {
            Assert.True(watch.MaskedRowsWithGradientBefore > 0, "gradient mode never masked a row that had a gradient at an earlier step");
        }

        Assert.True(watch.FreeRowsMoved > 0, "no row with a gradient moved");
    }

    /// <summary>Wraps each phase's optimizer and checks every step against the phase's MIGU masks.</summary>
    private sealed class MaskedRowsWatch
    {
        public int Steps { get; private set; }

        public int MaskedSteps { get; private set; }

        /// <summary>
        /// Update mode: masked rows that moved at an earlier step of the phase. MaskStep zeroes their
        /// gradient in both modes, but AdamW's momentum from that earlier step would still move them;
        /// only the optimizer's row masks hold them.
        /// </summary>
        public long HeldRowsWithMomentum { get; private set; }

        /// <summary>Gradient mode: masked rows (zero gradient at the optimizer) that had a gradient at an earlier step of the phase.</summary>
        public long MaskedRowsWithGradientBefore { get; private set; }

        /// <summary>Rows with a gradient, free to move (MIGU off, or not masked), that moved.</summary>
        public long FreeRowsMoved { get; private set; }

        public IStatefulOptimizer Wrap(IStatefulOptimizer optimizer, MiguController? migu, IContinualStrategy strategy) => new Watching(optimizer, migu, strategy, this);

        /// <summary>One phase's optimizer: checks each step, then steps the real one.</summary>
        private sealed class Watching(IStatefulOptimizer inner, MiguController? migu, IContinualStrategy strategy, MaskedRowsWatch watch) : IStatefulOptimizer
        {
            // With MIGU off, the rows MIGU would target at the same threshold.
            private readonly IReadOnlyList<MaskTarget> targets = migu?.Targets ?? strategy.MiguTargets(new MiguOptions { Threshold = 0.5 });
            private readonly Dictionary<string, bool[]> hadGradient = [];

            public double LearningRate { get => inner.LearningRate; set => inner.LearningRate = value; }

            public IReadOnlyList<Parameter> Parameters => inner.Parameters;

            public void Step(IReadOnlyDictionary<Parameter, Tensor>? rowMasks)
            {
                using var scope = NewDisposeScope();
                watch.Steps++;
                Assert.NotEmpty(targets);
                bool masked = migu is { Active: true };
                watch.MaskedSteps += masked ? 1 : 0;
                var before = targets.Select(t => t.Weight.detach().clone()).ToList();
                var gradientRows = targets.Select(t => t.Weight.grad is { } g ? Rows(g.abs().sum(1).gt(0)) : new bool[t.Rows]).ToList();
                var keep = masked ? targets.Select(t => Rows(migu!.MaskOf(t).flatten().gt(0))).ToList() : null;
                inner.Step(rowMasks);
                for (int i = 0; i < targets.Count; i++)
                {
                    MaskTarget target = targets[i];
                    bool[] moved = Rows(target.Weight.detach().ne(before[i]).any(1));
                    bool[] earlier = hadGradient.GetValueOrDefault(target.Name) ?? new bool[target.Rows];
                    bool[] free = keep?[i] ?? [.. Enumerable.Repeat(true, (int)target.Rows)];
                    int[] held = [.. Enumerable.Range(0, free.Length).Where(r => !free[r])];
                    if (keep is not null)
                    {
                        Assert.Equal(MaskBuilder.MaskedCount(target.Rows, migu!.Options.Threshold), held.Length);
                        if (migu.Options.Mode == MiguMode.Update)
                        {
                            Assert.NotNull(rowMasks);
                            Assert.All(held, r => Assert.False(moved[r], $"{target.Name}: masked row {r} moved in update mode"));
                            watch.HeldRowsWithMomentum += held.Count(r => earlier[r]);
                        }
                        else
                        {
                            Assert.Null(rowMasks);
                            Assert.All(held, r => Assert.False(gradientRows[i][r], $"{target.Name}: masked row {r} reached the optimizer with a gradient in gradient mode"));
                            watch.MaskedRowsWithGradientBefore += held.Count(r => earlier[r]);
                        }
                    }

                    // A row free to move whose gradient is not zero moves (AdamW moves each element by about lr).
                    int[] shouldMove = [.. Enumerable.Range(0, free.Length).Where(r => free[r] && gradientRows[i][r])];
                    Assert.All(shouldMove, r => Assert.True(moved[r], $"{target.Name}: row {r} has a gradient and is free, but did not move"));
                    watch.FreeRowsMoved += shouldMove.Length;
                    hadGradient[target.Name] = [.. earlier.Zip(gradientRows[i], (a, b) => a || b)];
                }
            }

            public void ZeroGrad() => inner.ZeroGrad();

            public Dictionary<string, Tensor> ExportState(IReadOnlyDictionary<Parameter, string> names) => inner.ExportState(names);

            public void ImportState(IReadOnlyDictionary<string, Tensor> state, IReadOnlyDictionary<Parameter, string> names) => inner.ImportState(state, names);

            public void Dispose() => inner.Dispose();

            private static bool[] Rows(Tensor flags) => flags.cpu().data<bool>().ToArray();
        }
    }
}
