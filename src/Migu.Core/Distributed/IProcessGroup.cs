using static TorchSharp.torch;

namespace Migu.Core.Distributed;

/// <summary>
/// The collectives data-parallel training needs, over every rank of a launched job. Every rank must
/// make the same calls in the same order with tensors of the same shapes and dtypes; a call returns
/// when this rank's part is done (on CUDA: enqueued on the stream libtorch uses, so later kernels see
/// the result). Tensors are updated in place and must live on <see cref="Device"/>.
/// </summary>
public interface IProcessGroup : IDisposable
{
    int Rank { get; }

    int WorldSize { get; }

    /// <summary>Where the tensors given to this group live.</summary>
    Device Device { get; }

    /// <summary>The engine underneath: "nccl", "mpi" or "single".</summary>
    string Backend { get; }

    /// <summary>Replaces each tensor by the sum (or average) of it over all ranks; grouped into one launch where the backend can.</summary>
    void AllReduce(IReadOnlyList<Tensor> tensors, ReduceOp op);

    /// <summary>Replaces each tensor by rank <paramref name="root"/>'s.</summary>
    void Broadcast(IReadOnlyList<Tensor> tensors, int root);

    /// <summary>Returns when every rank has called it.</summary>
    void Barrier();

    /// <summary>Every rank's <paramref name="local"/> bytes, in rank order (small host data: predictions, checksums).</summary>
    byte[][] AllGather(ReadOnlySpan<byte> local);

    /// <summary>
    /// This rank is leaving after an error: when it exits, tear the job down (MPI_Abort, ncclCommAbort)
    /// instead of waiting for peers that may be blocked in a collective.
    /// </summary>
    void MarkFailed();
}
