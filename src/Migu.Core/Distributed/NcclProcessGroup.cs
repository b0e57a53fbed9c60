using Migu.Core.Distributed.Native;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Core.Distributed;

/// <summary>
/// Collectives on CUDA tensors through NCCL, one GPU per rank. Calls are enqueued on the default
/// stream, the one libtorch launches its kernels on, so they run after the kernels that produced
/// their inputs and before the ones that read their results, without a host synchronisation.
/// Several tensors in one call are one NCCL group (one launch). NCCL's unique id travels from rank 0
/// over the TCP rendezvous when MASTER_ADDR/MASTER_PORT are set, else over MPI when an MPI launcher
/// started the job.
/// </summary>
public sealed class NcclProcessGroup : IProcessGroup
{
    private static readonly IntPtr DefaultStream = IntPtr.Zero;
    private readonly Nccl nccl;
    private readonly IntPtr comm;
    private readonly MpiProcessGroup? mpi;
    private bool failed;
    private bool disposed;

    private NcclProcessGroup(Nccl nccl, IntPtr comm, MpiProcessGroup? mpi, int rank, int worldSize, Device device)
    {
        this.nccl = nccl;
        this.comm = comm;
        this.mpi = mpi;
        Rank = rank;
        WorldSize = worldSize;
        Device = device;
    }

    public int Rank { get; }

    public int WorldSize { get; }

    public Device Device { get; }

    public string Backend => "nccl";

    /// <summary>The NCCL library's version.</summary>
    public string LibraryVersion => nccl.Version;

    /// <summary>Joins the launched job's NCCL communicator on <paramref name="device"/> (this rank's GPU).</summary>
    public static NcclProcessGroup Create(LaunchInfo launch, Device device)
    {
        ArgumentNullException.ThrowIfNull(launch);
        if (device.type != DeviceType.CUDA)
        {
            throw new ArgumentException($"NCCL works on CUDA devices, not {device}", nameof(device));
        }

        CudaRuntime.Get().SetDevice(device.index);
        Nccl nccl = Nccl.Get();
        byte[]? id = launch.Rank == 0 ? nccl.NewUniqueId() : null;
        MpiProcessGroup? mpi = null;
        if (launch.WorldSize > 1 && (launch.MasterAddress is null || launch.MasterPort is null) && launch.MpiLaunched)
        {
            mpi = MpiProcessGroup.Join(launch);
        }

        id = ShareId(launch, id, mpi);
        IntPtr comm = nccl.InitRank(launch.WorldSize, id, launch.Rank);
        return new NcclProcessGroup(nccl, comm, mpi, launch.Rank, launch.WorldSize, device);
    }

    public void AllReduce(IReadOnlyList<Tensor> tensors, ReduceOp op)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Tensor[] staged = [.. tensors.Select(t => Stage(t))];
        Enqueue(() =>
        {
            foreach (Tensor s in staged)
            {
                IntPtr data = TensorMemory.DataPointer(s);
                nccl.AllReduce(data, data, s.numel(), TypeOf(s), op == ReduceOp.Average ? Nccl.RedOp.Avg : Nccl.RedOp.Sum, comm, DefaultStream);
            }
        });
        WriteBack(staged, tensors);
    }

    public void Broadcast(IReadOnlyList<Tensor> tensors, int root)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(root);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(root, WorldSize);
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Tensor[] staged = [.. tensors.Select(t => Stage(t))];
        Enqueue(() =>
        {
            foreach (Tensor s in staged)
            {
                IntPtr data = TensorMemory.DataPointer(s);
                nccl.Broadcast(data, data, s.numel() * s.element_size(), Nccl.DataType.Uint8, root, comm, DefaultStream);
            }
        });
        WriteBack(staged, tensors);
    }

    public void Barrier()
    {
        using var scope = NewDisposeScope();
        Tensor token = ones(1, ScalarType.Float32, Device);
        AllReduce([token], ReduceOp.Sum);
        _ = token.item<float>(); // waits for the stream, so for every rank's part
    }

    public byte[][] AllGather(ReadOnlySpan<byte> local)
    {
        using var noGrad = no_grad();
        using var scope = NewDisposeScope();
        Tensor length = tensor(new long[] { local.Length }, device: Device);
        Tensor lengths = empty(WorldSize, ScalarType.Int64, Device);
        Enqueue(() => nccl.AllGather(TensorMemory.DataPointer(length), TensorMemory.DataPointer(lengths), 1, Nccl.DataType.Int64, comm, DefaultStream));
        long[] sizes = lengths.cpu().data<long>().ToArray();
        long width = Math.Max(1, sizes.Max());
        byte[] padded = new byte[width];
        local.CopyTo(padded);
        Tensor send = tensor(padded, device: Device);
        Tensor receive = empty(WorldSize * width, ScalarType.Byte, Device);
        Enqueue(() => nccl.AllGather(TensorMemory.DataPointer(send), TensorMemory.DataPointer(receive), width, Nccl.DataType.Uint8, comm, DefaultStream));
        byte[] all = receive.cpu().data<byte>().ToArray();
        return [.. Enumerable.Range(0, WorldSize).Select(r => all.AsSpan((int)(r * width), (int)sizes[r]).ToArray())];
    }

    public void MarkFailed()
    {
        failed = true;
        mpi?.MarkFailed();
    }

    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        if (failed)
        {
            nccl.Abort(comm); // a peer may be stuck in a collective; do not wait for it
        }
        else
        {
            nccl.Destroy(comm);
        }
    }

    private static byte[] ShareId(LaunchInfo launch, byte[]? id, MpiProcessGroup? mpi)
    {
        if (launch.WorldSize == 1)
        {
            return id!;
        }

        if (launch.MasterAddress is string address && launch.MasterPort is int port)
        {
            return TcpRendezvous.Share(id, launch.Rank, launch.WorldSize, address, port);
        }

        if (mpi is not null)
        {
            using var scope = NewDisposeScope();
            Tensor buffer = launch.Rank == 0 ? tensor(id!) : zeros(Nccl.UniqueIdBytes, ScalarType.Byte);
            mpi.Broadcast([buffer], root: 0);
            return buffer.data<byte>().ToArray();
        }

        throw new MiguUserException(
            $"rank {launch.Rank} of {launch.WorldSize}: NCCL needs MASTER_ADDR and MASTER_PORT (or an MPI launcher) to share its id");
    }

    /// <summary>Runs NCCL calls as one group on this rank's device.</summary>
    private void Enqueue(Action calls)
    {
        ObjectDisposedException.ThrowIf(disposed, this);
        CudaRuntime.Get().SetDevice(Device.index); // NCCL launches on the current device of this thread
        nccl.GroupStart();
        try
        {
            calls();
        }
        finally
        {
            nccl.GroupEnd();
        }
    }

    private Tensor Stage(Tensor t)
    {
        CollectiveTensors.CheckDevice(t, Device);
        _ = TypeOf(t);
        return CollectiveTensors.Staged(t, t.dtype);
    }

    private static void WriteBack(Tensor[] staged, IReadOnlyList<Tensor> tensors)
    {
        for (int i = 0; i < staged.Length; i++)
        {
            CollectiveTensors.WriteBack(staged[i], tensors[i]);
        }
    }

    private static Nccl.DataType TypeOf(Tensor t) => t.dtype switch
    {
        ScalarType.Float32 => Nccl.DataType.Float32,
        ScalarType.Float64 => Nccl.DataType.Float64,
        ScalarType.BFloat16 => Nccl.DataType.BFloat16,
        ScalarType.Float16 => Nccl.DataType.Float16,
        ScalarType.Int64 => Nccl.DataType.Int64,
        ScalarType.Int32 => Nccl.DataType.Int32,
        ScalarType.Int8 => Nccl.DataType.Int8,
        ScalarType.Byte or ScalarType.Bool => Nccl.DataType.Uint8,
        _ => throw new ArgumentException($"NCCL cannot reduce {t.dtype} tensors", nameof(t)),
    };
}
