using Migu.Continual.Recipes;
using Migu.Continual.Strategies;
using Migu.Continual.Runs;
using Migu.Core;

namespace Migu.Continual.Tests.Strategies;

/// <summary>Every strategy, with MIGU off and on in both modes, trains end to end on a tiny model.</summary>
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
    public void Trains_end_to_end_with_a_row_per_phase(string method, string migu)
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

        RunMetrics m = new ContinualRunner(recipe, SyntheticTasks.Two(train: 16, test: 4), Path.Combine(root, $"{method}-{migu}")).Run();

        Assert.True(m.Finished);
        Assert.Equal(method == "mtl" ? 1 : 2, m.AccuracyMatrix.Count);
        Assert.All(m.AccuracyMatrix.SelectMany(r => r), a => Assert.InRange(a, 0, 1));
        Assert.All(m.Timings, t => Assert.True(t.Steps > 0 && t.TrainTokens > 0));
        string[] loss = File.ReadAllLines(Path.Combine(root, $"{method}-{migu}", "loss.csv"));
        Assert.All(loss.Skip(1), line => Assert.True(double.IsFinite(double.Parse(line.Split(',')[4], System.Globalization.CultureInfo.InvariantCulture))));
    }
}
