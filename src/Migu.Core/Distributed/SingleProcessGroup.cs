using static TorchSharp.torch;

namespace Migu.Core.Distributed;

/// <summary>
/// A job of one rank: every collective leaves its tensors as they are. What a launch of one CPU
/// process without MPI gets (<c>--nproc 1</c>), so the data-parallel code path runs without MPI.
/// </summary>
public sealed class SingleProcessGroup(Device device) : IProcessGroup
{
    public int Rank => 0;

    public int WorldSize => 1;

    public Device Device { get; } = device;

    public string Backend => "single";

    public void AllReduce(IReadOnlyList<Tensor> tensors, ReduceOp op) => CheckDevice(tensors);

    public void Broadcast(IReadOnlyList<Tensor> tensors, int root)
    {
        ArgumentOutOfRangeException.ThrowIfNotEqual(root, 0);
        CheckDevice(tensors);
    }

    public void Barrier()
    {
    }

    public byte[][] AllGather(ReadOnlySpan<byte> local) => [local.ToArray()];

    public void MarkFailed()
    {
    }

    public void Dispose()
    {
    }

    private void CheckDevice(IReadOnlyList<Tensor> tensors)
    {
        foreach (Tensor t in tensors)
        {
            CollectiveTensors.CheckDevice(t, Device);
        }
    }
}
