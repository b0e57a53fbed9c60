using Migu.Core.Distributed.Native;
using static TorchSharp.torch;

namespace Migu.Core.Distributed;

/// <summary>
/// Collectives on CPU tensors through MPI (Open MPI), for jobs started by mpirun or srun. Reductions
/// run in place on the tensors' memory; fp32, fp64, int32 and int64 reduce as they are, bf16 and
/// fp16 (which MPI has no type for) through an fp32 copy.
/// </summary>
public sealed class MpiProcessGroup : IProcessGroup
{
    private readonly OpenMpi mpi;

    private MpiProcessGroup(OpenMpi mpi) => this.mpi = mpi;

    public int Rank => mpi.Rank;

    public int WorldSize => mpi.Size;

    public Device Device => CPU;

    public string Backend => "mpi";

    /// <summary>The MPI library's own description of itself.</summary>
    public string LibraryVersion => mpi.Version;

    /// <summary>Whether Open MPI's libmpi can be loaded on this machine.</summary>
    public static bool IsAvailable() => OpenMpi.IsAvailable();

    /// <summary>
    /// Initialises MPI (once per process) and joins MPI_COMM_WORLD; when <paramref name="launch"/> is
    /// given, MPI's rank and size must be the launcher's.
    /// </summary>
    public static MpiProcessGroup Join(LaunchInfo? launch = null)
    {
        OpenMpi mpi = OpenMpi.Get();
        if (launch is not null && (launch.Rank != mpi.Rank || launch.WorldSize != mpi.Size))
        {
            throw new MiguUserException(
                $"the launcher says rank {launch.Rank} of {launch.WorldSize} but MPI says {mpi.Rank} of {mpi.Size}; was this process started by mpirun/srun with MPI support?");
        }

        return new MpiProcessGroup(mpi);
    }

    public void AllReduce(IReadOnlyList<Tensor> tensors, ReduceOp op)
    {
        using var noGrad = no_grad();
        foreach (Tensor t in tensors)
        {
            using var scope = NewDisposeScope();
            CollectiveTensors.CheckDevice(t, Device);
            ScalarType work = t.dtype is ScalarType.BFloat16 or ScalarType.Float16 ? ScalarType.Float32 : t.dtype;
            IntPtr type = work switch
            {
                ScalarType.Float32 => mpi.Float,
                ScalarType.Float64 => mpi.Double,
                ScalarType.Int64 => mpi.Int64,
                ScalarType.Int32 => mpi.Int32,
                _ => throw new ArgumentException($"MPI all-reduce takes fp32, fp64, bf16, fp16, int32 or int64 tensors, not {t.dtype}", nameof(tensors)),
            };
            if (op == ReduceOp.Average && work is ScalarType.Int32 or ScalarType.Int64)
            {
                throw new ArgumentException("an average of integer tensors is not an integer; reduce with Sum", nameof(tensors));
            }

            Tensor staged = CollectiveTensors.Staged(t, work);
            long elementSize = staged.element_size();
            ForEachChunk(staged.numel(), (offset, count) =>
                mpi.AllReduceInPlace(TensorMemory.DataPointer(staged) + (nint)(offset * elementSize), count, type, mpi.Sum));
            if (op == ReduceOp.Average)
            {
                staged.div_(WorldSize);
            }

            CollectiveTensors.WriteBack(staged, t);
        }
    }

    public void Broadcast(IReadOnlyList<Tensor> tensors, int root)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(root);
        ArgumentOutOfRangeException.ThrowIfGreaterThanOrEqual(root, WorldSize);
        using var noGrad = no_grad();
        foreach (Tensor t in tensors)
        {
            using var scope = NewDisposeScope();
            CollectiveTensors.CheckDevice(t, Device);
            Tensor staged = CollectiveTensors.Staged(t, t.dtype);
            // Bytes are bytes: any dtype travels as MPI_BYTE.
            ForEachChunk(staged.numel() * staged.element_size(), (offset, count) =>
                mpi.Broadcast(TensorMemory.DataPointer(staged) + (nint)offset, count, mpi.Byte, root));
            CollectiveTensors.WriteBack(staged, t);
        }
    }

    public void Barrier() => mpi.Barrier();

    public unsafe byte[][] AllGather(ReadOnlySpan<byte> local)
    {
        int[] lengths = new int[WorldSize];
        int mine = local.Length;
        fixed (int* receive = lengths)
        {
            mpi.AllGather((IntPtr)(&mine), 1, mpi.Int32, (IntPtr)receive);
        }

        int[] offsets = new int[WorldSize];
        for (int r = 1; r < WorldSize; r++)
        {
            offsets[r] = checked(offsets[r - 1] + lengths[r - 1]);
        }

        byte[] all = new byte[checked(offsets[^1] + lengths[^1])];
        fixed (byte* send = local)
        fixed (byte* receive = all)
        {
            mpi.AllGatherV((IntPtr)send, mine, (IntPtr)receive, lengths, offsets);
        }

        return [.. Enumerable.Range(0, WorldSize).Select(r => all.AsSpan(offsets[r], lengths[r]).ToArray())];
    }

    public void MarkFailed() => mpi.MarkFailed();

    /// <summary>MPI itself stays up until the process exits (it cannot be initialised twice).</summary>
    public void Dispose()
    {
    }

    /// <summary>MPI counts are ints: longer buffers go in pieces.</summary>
    private static void ForEachChunk(long total, Action<long, int> call)
    {
        for (long offset = 0; offset < total; offset += int.MaxValue)
        {
            call(offset, (int)Math.Min(int.MaxValue, total - offset));
        }
    }
}
