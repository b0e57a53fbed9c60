using Migu.Core.Distributed;
using static TorchSharp.torch;

namespace Migu.Distributed.Tests;

/// <summary>
/// A process group whose other ranks are simulated in this process: an all-reduce adds what
/// <see cref="Peers"/> says the other ranks hold (by default, the same values as this rank), and an
/// all-gather returns what <see cref="Gather"/> makes of this rank's bytes (by default, copies).
/// For the logic above the collectives; real collectives are tested through mpirun.
/// </summary>
internal sealed class FakePeersGroup(int rank, int worldSize) : IProcessGroup
{
    public int Rank => rank;

    public int WorldSize => worldSize;

    public Device Device => CPU;

    public string Backend => "fake";

    /// <summary>Sum of the other ranks' values for the n-th all-reduced tensor (0-based over all calls).</summary>
    public Func<int, Tensor, Tensor>? Peers { get; init; }

    /// <summary>Every rank's bytes, in rank order, given this rank's.</summary>
    public Func<byte[], byte[][]>? Gather { get; init; }

    public int AllReduceCount { get; private set; }

    public int BroadcastCount { get; private set; }

    public bool Failed { get; private set; }

    public void AllReduce(IReadOnlyList<Tensor> tensors, ReduceOp op)
    {
        using var noGrad = no_grad();
        foreach (Tensor t in tensors)
        {
            using var scope = NewDisposeScope();
            t.add_(Peers?.Invoke(AllReduceCount, t) ?? t.mul(worldSize - 1));
            if (op == ReduceOp.Average)
            {
                t.div_(worldSize);
            }

            AllReduceCount++;
        }
    }

    public void Broadcast(IReadOnlyList<Tensor> tensors, int root) => BroadcastCount += tensors.Count;

    public void Barrier()
    {
    }

    public byte[][] AllGather(ReadOnlySpan<byte> local) =>
        Gather?.Invoke(local.ToArray()) ?? [.. Enumerable.Repeat(local.ToArray(), worldSize)];

    public void MarkFailed() => Failed = true;

    public void Dispose()
    {
    }
}
