using System.Text;
using System.Text.Json;
using Migu.Core;
using Migu.Core.Distributed;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Continual.Distributed;

/// <summary>
/// The training loop's and the runner's side of data parallelism over a process group: which
/// micro-batches this rank computes, what is reduced at the end of a step (loss, stop requests,
/// gradients), MIGU's magnitudes, evaluation answers, and the checks that keep the ranks in step.
/// Every rank calls the same members in the same order; rank 0 alone writes the run store.
/// </summary>
public sealed class DataParallel(IProcessGroup group)
{
    private static readonly JsonSerializerOptions Json = new();

    public IProcessGroup Group { get; } = group ?? throw new ArgumentNullException(nameof(group));

    public int Rank => Group.Rank;

    public int WorldSize => Group.WorldSize;

    /// <summary>Rank 0: the one that writes the run store and reports progress.</summary>
    public bool IsMain => Group.Rank == 0;

    /// <summary>This rank's share of a step's batch (<see cref="BatchSharding"/>).</summary>
    public IReadOnlyList<MicroBatch> MicroBatches(int[] batch, int gradAccum) => BatchSharding.MicroBatches(batch, gradAccum, Rank, WorldSize);

    /// <summary>Every rank adds the strategy's extra loss (EWC, O-LoRA) on the same weights; scaled so that the summed gradient counts it once.</summary>
    public double ExtraLossScale => 1.0 / WorldSize;

    /// <summary>
    /// Ends a step's backward passes: one small all-reduce sums the ranks' loss shares, their stop
    /// requests and which parameters have a gradient (a rank that got no examples may have none), a
    /// zero gradient is made where another rank has one, and then the gradients are summed in
    /// buckets. Micro-batch losses are weighted by their share of the whole batch, so the sum is the
    /// gradient one process would compute, and clipping and MIGU see the same values on every rank.
    /// </summary>
    public StepSync FinishStep(IReadOnlyList<Parameter> parameters, double localLoss, bool stopRequested)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        double[] local = new double[2 + parameters.Count];
        local[0] = localLoss;
        local[1] = stopRequested ? 1 : 0;
        for (int i = 0; i < parameters.Count; i++)
        {
            local[2 + i] = parameters[i].grad is null ? 0 : 1;
        }

        Tensor summary = tensor(local, device: Group.Device); // (2 + P) fp64
        Group.AllReduce([summary], ReduceOp.Sum);
        double[] all = summary.cpu().data<double>().ToArray();
        var gradients = new List<Tensor>();
        for (int i = 0; i < parameters.Count; i++)
        {
            if (all[2 + i] == 0)
            {
                continue; // no rank has a gradient: the optimizer skips it, as in one process
            }

            Parameter p = parameters[i];
            if (p.grad is null)
            {
                p.grad = zeros_like(p);
            }

            gradients.Add(p.grad!);
        }

        GradientBuckets.SumAcrossRanks(Group, gradients);
        return new StepSync(all[0], all[1] > 0);
    }

    /// <summary>MIGU's magnitude reducer: the ranks' accumulators summed, so the masks rank units by the whole batch.</summary>
    public void SumMagnitudes(IReadOnlyList<Tensor> accumulators) => Group.AllReduce(accumulators, ReduceOp.Sum);

    /// <summary>Gives every rank rank 0's values of <paramref name="tensors"/> (weights after creation or loading).</summary>
    public void BroadcastFromMain(IEnumerable<Tensor> tensors) => Group.Broadcast([.. tensors], root: 0);

    /// <summary>
    /// Merges the ranks' evaluation answers (index → answer) into one list of <paramref name="count"/>,
    /// on every rank.
    /// </summary>
    public string[] GatherAnswers(IReadOnlyDictionary<int, string> mine, int count)
    {
        ArgumentNullException.ThrowIfNull(mine);
        byte[][] parts = Group.AllGather(JsonSerializer.SerializeToUtf8Bytes(mine, Json));
        var answers = new string?[count];
        foreach (byte[] part in parts)
        {
            foreach (var (index, answer) in JsonSerializer.Deserialize<Dictionary<int, string>>(part, Json) ?? [])
            {
                if (index < 0 || index >= count || answers[index] is not null)
                {
                    throw new InvalidOperationException($"evaluation shards overlap or overrun at prompt {index} of {count}");
                }

                answers[index] = answer;
            }
        }

        return [.. answers.Select((a, i) => a ?? throw new InvalidOperationException($"no rank answered prompt {i} of {count}"))];
    }

    /// <summary>
    /// Refuses to go on when the ranks read the run store differently (<paramref name="view"/> says
    /// what this rank read): a resumed job needs the run directory on a filesystem every rank sees.
    /// </summary>
    public void CheckSameView(string view)
    {
        ArgumentNullException.ThrowIfNull(view);
        string[] views = [.. Group.AllGather(Encoding.UTF8.GetBytes(view)).Select(b => Encoding.UTF8.GetString(b))];
        for (int r = 1; r < views.Length; r++)
        {
            if (views[r] != views[0])
            {
                throw new MiguUserException(
                    $"rank {r} reads the run directory differently from rank 0 ({views[r]} vs {views[0]}); every rank must see the same run directory (a shared filesystem)");
            }
        }
    }

    /// <summary>
    /// Checks that every rank holds the same weights (Σw and Σw² per tensor, in fp64, within 1e-9
    /// relative: the sums' own rounding may differ where thread counts differ). Ranks drift apart
    /// only through a bug, so this throws rather than repairs.
    /// </summary>
    public void CheckInSync(IReadOnlyList<Tensor> parameters, string when)
    {
        ArgumentNullException.ThrowIfNull(parameters);
        double[] sums;
        using (no_grad())
        using (NewDisposeScope())
        {
            Tensor[] parts = [.. parameters.Select(p => stack([p.sum(ScalarType.Float64), p.to(ScalarType.Float64).square().sum()]))];
            sums = parts.Length == 0 ? [] : cat(parts).cpu().data<double>().ToArray();
        }

        byte[] mine = new byte[sums.Length * sizeof(double)];
        Buffer.BlockCopy(sums, 0, mine, 0, mine.Length);
        byte[][] all = Group.AllGather(mine);
        double[] reference = ToDoubles(all[0]);
        // Every rank compares every rank with rank 0, so all of them stop together.
        for (int r = 1; r < all.Length; r++)
        {
            double[] other = ToDoubles(all[r]);
            for (int i = 0; i < reference.Length; i++)
            {
                double scale = Math.Max(Math.Abs(reference[i]), 1e-30);
                if (other.Length != reference.Length || !(Math.Abs(other[i] - reference[i]) <= 1e-9 * scale))
                {
                    throw new InvalidOperationException(
                        $"rank {r}'s weights differ from rank 0's {when} (tensor {i / 2}: {other.ElementAtOrDefault(i):R} vs {reference[i]:R}); data-parallel ranks must stay identical");
                }
            }
        }
    }

    private static double[] ToDoubles(byte[] bytes)
    {
        double[] values = new double[bytes.Length / sizeof(double)];
        Buffer.BlockCopy(bytes, 0, values, 0, values.Length * sizeof(double));
        return values;
    }
}

/// <summary>What the ranks agreed on at the end of a step's backward passes.</summary>
/// <param name="Loss">The step's task loss over the whole batch (every rank's share summed).</param>
/// <param name="Stop">Whether any rank was asked to stop (Ctrl-C): all stop before the next step.</param>
public readonly record struct StepSync(double Loss, bool Stop);
