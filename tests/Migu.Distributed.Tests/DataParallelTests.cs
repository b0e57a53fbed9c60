using System.Text;
using System.Text.Json;
using Migu.Continual.Distributed;
using Migu.Core;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Distributed.Tests;

public sealed class DataParallelTests
{
    [Fact]
    public void A_step_sums_losses_and_stop_requests_and_gives_a_gradient_where_only_another_rank_has_one()
    {
        using var scope = NewDisposeScope();
        var withGrad = new Parameter(zeros(2, 2));
        var withoutGrad = new Parameter(zeros(3));
        var neverGrad = new Parameter(zeros(1));
        withGrad.grad = full(new long[] { 2, 2 }, 1f);
        // The other rank: loss share 0.25, asks to stop, has gradients for the first two parameters.
        var group = new FakePeersGroup(0, 2)
        {
            Peers = (call, t) => call == 0 ? tensor(new[] { 0.25, 1, 1, 1, 0 }) : full_like(t, 10),
        };

        StepSync sync = new DataParallel(group).FinishStep([withGrad, withoutGrad, neverGrad], localLoss: 0.5, stopRequested: false);

        Assert.Equal(0.75, sync.Loss, 12);
        Assert.True(sync.Stop);
        Assert.Equal(Enumerable.Repeat(11f, 4), withGrad.grad!.data<float>().ToArray());
        Assert.Equal(Enumerable.Repeat(10f, 3), withoutGrad.grad!.data<float>().ToArray());
        Assert.Null(neverGrad.grad); // no rank has one: the optimizer skips it, as one process would
    }

    [Fact]
    public void The_extra_loss_is_scaled_so_that_the_ranks_sum_counts_it_once() =>
        Assert.Equal(0.25, new DataParallel(new FakePeersGroup(1, 4)).ExtraLossScale);

    [Fact]
    public void Answers_from_every_rank_merge_into_prompt_order()
    {
        var group = new FakePeersGroup(0, 2)
        {
            Gather = mine => [mine, JsonSerializer.SerializeToUtf8Bytes(new Dictionary<int, string> { [1] = "b", [3] = "d" })],
        };

        string[] answers = new DataParallel(group).GatherAnswers(new Dictionary<int, string> { [0] = "a", [2] = "c" }, count: 4);

        Assert.Equal(["a", "b", "c", "d"], answers);
    }

    [Theory]
    [InlineData(1, "overlap")] // both ranks answered prompt 1
    [InlineData(9, "overlap or overrun")]
    public void Overlapping_or_stray_answers_are_a_bug(int strayIndex, string message)
    {
        var group = new FakePeersGroup(0, 2)
        {
            Gather = mine => [mine, JsonSerializer.SerializeToUtf8Bytes(new Dictionary<int, string> { [strayIndex] = "x" })],
        };

        var e = Assert.Throws<InvalidOperationException>(() => new DataParallel(group).GatherAnswers(new Dictionary<int, string> { [0] = "a", [1] = "b" }, count: 2));
        Assert.Contains(message, e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void A_prompt_no_rank_answered_is_a_bug()
    {
        var group = new FakePeersGroup(0, 2) { Gather = mine => [mine, "{}"u8.ToArray()] };

        Assert.Throws<InvalidOperationException>(() => new DataParallel(group).GatherAnswers(new Dictionary<int, string> { [0] = "a" }, count: 2));
    }

    [Fact]
    public void Ranks_that_read_the_run_store_differently_are_stopped_with_the_difference()
    {
        var same = new FakePeersGroup(0, 2);
        var different = new FakePeersGroup(0, 2) { Gather = mine => [mine, Encoding.UTF8.GetBytes("0 phase(s) done")] };

        new DataParallel(same).CheckSameView("1 phase(s) done");
        var e = Assert.Throws<MiguUserException>(() => new DataParallel(different).CheckSameView("1 phase(s) done"));
        Assert.Contains("rank 1", e.Message, StringComparison.Ordinal);
        Assert.Contains("shared filesystem", e.Message, StringComparison.Ordinal);
    }

    [Fact]
    public void Weights_that_drifted_apart_are_caught_and_equal_ones_pass()
    {
        using var scope = NewDisposeScope();
        Tensor[] weights = [arange(6, ScalarType.Float32).reshape(2, 3), ones(4)];
        var same = new FakePeersGroup(0, 2);
        var drifted = new FakePeersGroup(0, 2)
        {
            Gather = mine =>
            {
                double[] sums = new double[mine.Length / 8];
                Buffer.BlockCopy(mine, 0, sums, 0, mine.Length);
                sums[2] *= 1 + 1e-6; // the other rank's second tensor sums a little differently
                byte[] other = new byte[mine.Length];
                Buffer.BlockCopy(sums, 0, other, 0, other.Length);
                return [mine, other];
            },
        };

        new DataParallel(same).CheckInSync(weights, "after a task");
        var e = Assert.Throws<InvalidOperationException>(() => new DataParallel(drifted).CheckInSync(weights, "after a task"));
        Assert.Contains("rank 1's weights differ from rank 0's after a task (tensor 1", e.Message, StringComparison.Ordinal);
    }
}
