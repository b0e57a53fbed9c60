using Migu.Continual.Runs;
using Migu.Continual.Training;
using Migu.Models;
using static TorchSharp.torch;

namespace Migu.Continual.Tests.Training;

/// <summary>
/// How a phase's examples become batches: phases that mix tasks (MTL's joint phase, replay after the
/// first task) are shuffled uniformly, so their batches mix the tasks; one task's own examples keep
/// length-sorted windows. Length-sorted batching of a mixed phase puts each task (each length) in
/// batches of its own and the replayed examples in one batch, which the bounds below refuse.
/// </summary>
public sealed class BatchPlanTests
{
    private const int Batch = 8;

    [Fact]
    public void Mtl_phase_batches_mix_tasks_of_different_lengths()
    {
        // Four tasks of 64 examples each, task k's prompts 12 + 10k tokens long (± 2): length-sorted,
        // 256 examples fill one window and each task exactly 8 batches of its own (0 % mixed).
        // Uniform, a batch of 8 is single-task with probability 4·C(64,8)/C(256,8) = 4.3e-5, so over
        // 10 seeds × 32 batches the expected number of single-task batches is 0.014; the bound 95 %
        // mixed fails for a uniform shuffle only if 16 or more are (probability below 1e-30).
        int[] taskOf = [.. Enumerable.Range(0, 256).Select(i => i / 64)];
        var random = new Random(1);
        int[] lengths = [.. taskOf.Select(t => 12 + (10 * t) + random.Next(-2, 3))];
        RunPhase joint = RunPhase.Plan(["a", "b", "c", "d"], joint: true)[0];
        Assert.Equal(BatchOrder.Uniform, joint.OrderOfBatches(0));

        int mixed = 0, batches = 0;
        for (long seed = 0; seed < 10; seed++)
        {
            foreach (var (_, batch) in Plan(lengths, joint.OrderOfBatches(0), seed).Steps())
            {
                batches++;
                mixed += batch.Select(i => taskOf[i]).Distinct().Count() >= 2 ? 1 : 0;
            }
        }

        Assert.Equal(320, batches);
        Assert.True(mixed >= 0.95 * batches, $"{mixed} of {batches} batches hold two tasks or more");
    }

    [Fact]
    public void Replayed_examples_spread_over_the_phase_batches()
    {
        // The second task of a replay run: 200 own examples of 20 tokens and 8 replayed ones of 40 (an
        // earlier task with longer prompts), 26 batches of 8. Length-sorted, the 8 replayed examples
        // share the last batch (1 batch). Uniform, they land in at most 3 batches with probability
        // ≤ C(26,3)·C(24,8)/C(208,8) = 2.5e-5 per seed (all 8 inside some 3 batches), so "at least 4
        // batches" fails for a uniform shuffle with probability ≤ 2.5e-4 over 10 seeds; the mean over
        // seeds is 7.1 distinct batches (sd 0.8 each, so ≥ 6 asserted is over 4 standard errors below it).
        int[] lengths = [.. Enumerable.Repeat(20, 200), .. Enumerable.Repeat(40, 8)];
        RunPhase second = RunPhase.Plan(["earlier", "current"], joint: false)[1];
        Assert.Equal(BatchOrder.Uniform, second.OrderOfBatches(0.04));

        var spread = new List<int>();
        for (long seed = 0; seed < 10; seed++)
        {
            var steps = Plan(lengths, second.OrderOfBatches(0.04), seed).Steps();
            Assert.Equal(26, steps.Count);
            spread.Add(steps.Count(s => s.Batch.Any(i => i >= 200)));
        }

        Assert.All(spread, batchesWithReplay => Assert.True(batchesWithReplay >= 4, $"replayed examples in {string.Join(", ", spread)} batches"));
        Assert.True(spread.Average() >= 6, $"replayed examples in {spread.Average()} batches on average");
    }

    [Fact]
    public void A_single_task_phase_keeps_length_sorted_batches()
    {
        // The first task of any run, and later tasks without replay: batches hold examples of similar
        // length (within one window the batches' length ranges do not overlap).
        Assert.Equal(BatchOrder.LengthSorted, RunPhase.Plan(["a", "b"], joint: false)[0].OrderOfBatches(0.25));
        Assert.Equal(BatchOrder.LengthSorted, RunPhase.Plan(["a", "b"], joint: false)[1].OrderOfBatches(0));
        Assert.Equal(BatchOrder.LengthSorted, RunPhase.Plan(["a"], joint: true)[0].OrderOfBatches(0));

        var random = new Random(2);
        int[] lengths = [.. Enumerable.Range(0, 160).Select(_ => random.Next(5, 60))];
        var ranges = Plan(lengths, BatchOrder.LengthSorted, 3).Steps().Select(s => (Min: s.Batch.Min(i => lengths[i]), Max: s.Batch.Max(i => lengths[i]))).ToList();
        foreach (var a in ranges)
        {
            Assert.All(ranges.Where(b => b != a), b => Assert.True(a.Max <= b.Min || b.Max <= a.Min, $"batches of lengths {a} and {b} overlap"));
        }
    }

    [Theory]
    [InlineData(BatchOrder.Uniform)]
    [InlineData(BatchOrder.LengthSorted)]
    public void Every_epoch_covers_every_example_once_and_the_plan_is_the_same_when_made_again(BatchOrder order)
    {
        // A resumed run remakes the plan and skips to its step: the plan must depend on the seed alone.
        var random = new Random(4);
        int[] lengths = [.. Enumerable.Range(0, 45).Select(_ => random.Next(5, 60))];
        TaskTrainingPlan plan = Plan(lengths, order, 7) with { Epochs = 2 };
        var steps = plan.Steps();
        var again = (Plan(lengths, order, 7) with { Epochs = 2 }).Steps();

        Assert.Equal(steps.Select(s => (s.Epoch, string.Join(',', s.Batch))), again.Select(s => (s.Epoch, string.Join(',', s.Batch))));
        for (int epoch = 0; epoch < 2; epoch++)
        {
            Assert.Equal(Enumerable.Range(0, 45), steps.Where(s => s.Epoch == epoch).SelectMany(s => s.Batch).Order());
        }

        Assert.NotEqual(steps.Where(s => s.Epoch == 0).SelectMany(s => s.Batch), steps.Where(s => s.Epoch == 1).SelectMany(s => s.Batch));
    }

    [Fact]
    public void Data_of_one_length_batches_the_same_in_either_order()
    {
        // Packed pre-training sequences all have the sequence length: uniform batching of replay's
        // mixed domains changes nothing there.
        int[] lengths = [.. Enumerable.Repeat(32, 37)];
        Assert.Equal(BatchPlan.ForEpoch(lengths, Batch, 11, BatchOrder.LengthSorted), BatchPlan.ForEpoch(lengths, Batch, 11, BatchOrder.Uniform));
    }

    private static TaskTrainingPlan Plan(int[] lengths, BatchOrder order, long seed) => new()
    {
        TaskIndex = 1,
        TaskName = "mixed",
        Data = new Lengths(lengths),
        Batch = Batch,
        Seed = seed,
        Order = order,
    };

    /// <summary>Examples known only by their token counts: batching reads nothing else.</summary>
    private sealed class Lengths(int[] lengths) : ITrainingData
    {
        public int Count => lengths.Length;

        public int TokensOf(int index) => lengths[index];

        public ModelBatch Collate(IReadOnlyList<int> indices, Device device) => throw new NotSupportedException("batching never collates");
    }
}
