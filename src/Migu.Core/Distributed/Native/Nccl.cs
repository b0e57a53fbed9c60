using System.Runtime.InteropServices;

namespace Migu.Core.Distributed.Native;

/// <summary>
/// NCCL's C interface (libnccl.so.2), bound at run time: the library PyTorch's wheels bring
/// (nvidia-nccl-cu*), found through LD_LIBRARY_PATH, a copy libtorch already loaded, or
/// MIGU_NCCL_LIBRARY. Only what data parallelism needs: one communicator per process, all-reduce,
/// broadcast, all-gather and group calls, all on a given CUDA stream.
/// </summary>
internal sealed unsafe class Nccl
{
    public const string LibraryVariable = "MIGU_NCCL_LIBRARY";

    /// <summary>ncclUniqueId's size (NCCL_UNIQUE_ID_BYTES).</summary>
    public const int UniqueIdBytes = 128;

    private static readonly Lock Gate = new();
    private static Nccl? instance;

    private readonly delegate* unmanaged<UniqueId*, int> getUniqueId;
    private readonly delegate* unmanaged<IntPtr*, int, UniqueId, int, int> commInitRank;
    private readonly delegate* unmanaged<IntPtr, int> commDestroy;
    private readonly delegate* unmanaged<IntPtr, int> commAbort;
    private readonly delegate* unmanaged<IntPtr, IntPtr, nuint, int, int, IntPtr, IntPtr, int> allReduce;
    private readonly delegate* unmanaged<IntPtr, IntPtr, nuint, int, int, IntPtr, IntPtr, int> broadcast;
    private readonly delegate* unmanaged<IntPtr, IntPtr, nuint, int, IntPtr, IntPtr, int> allGather;
    private readonly delegate* unmanaged<int> groupStart;
    private readonly delegate* unmanaged<int> groupEnd;
    private readonly delegate* unmanaged<int, IntPtr> errorString;

    private Nccl(IntPtr library, string name)
    {
        IntPtr Export(string symbol) => NativeLibrary.TryGetExport(library, symbol, out IntPtr address)
            ? address
            : throw new MiguUserException($"{name} has no '{symbol}'; is it NCCL 2.10 or newer?");

        getUniqueId = (delegate* unmanaged<UniqueId*, int>)Export("ncclGetUniqueId");
        commInitRank = (delegate* unmanaged<IntPtr*, int, UniqueId, int, int>)Export("ncclCommInitRank");
        commDestroy = (delegate* unmanaged<IntPtr, int>)Export("ncclCommDestroy");
        commAbort = (delegate* unmanaged<IntPtr, int>)Export("ncclCommAbort");
        allReduce = (delegate* unmanaged<IntPtr, IntPtr, nuint, int, int, IntPtr, IntPtr, int>)Export("ncclAllReduce");
        broadcast = (delegate* unmanaged<IntPtr, IntPtr, nuint, int, int, IntPtr, IntPtr, int>)Export("ncclBroadcast");
        allGather = (delegate* unmanaged<IntPtr, IntPtr, nuint, int, IntPtr, IntPtr, int>)Export("ncclAllGather");
        groupStart = (delegate* unmanaged<int>)Export("ncclGroupStart");
        groupEnd = (delegate* unmanaged<int>)Export("ncclGroupEnd");
        errorString = (delegate* unmanaged<int, IntPtr>)Export("ncclGetErrorString");
        var getVersion = (delegate* unmanaged<int*, int>)Export("ncclGetVersion");
        int version = 0;
        Check(getVersion(&version), "ncclGetVersion");
        // NCCL_VERSION_CODE is major*10000 + minor*100 + patch since 2.9.
        Version = $"{version / 10000}.{version / 100 % 100}.{version % 100}";
        if (version < 21000)
        {
            throw new MiguUserException($"{name} is NCCL {Version}; NCCL 2.10 or newer is needed (ncclAvg, bf16)");
        }
    }

    /// <summary>NCCL's version, e.g. "2.27.7".</summary>
    public string Version { get; }

    /// <summary>ncclDataType_t.</summary>
    public enum DataType
    {
        Int8 = 0,
        Uint8 = 1,
        Int32 = 2,
        Int64 = 4,
        Float16 = 6,
        Float32 = 7,
        Float64 = 8,
        BFloat16 = 9,
    }

    /// <summary>ncclRedOp_t.</summary>
    public enum RedOp
    {
        Sum = 0,
        Avg = 4,
    }

    public static Nccl Get()
    {
        lock (Gate)
        {
            return instance ??= Load();
        }
    }

    /// <summary>A new unique id (rank 0 makes it; every rank needs the same bytes).</summary>
    public byte[] NewUniqueId()
    {
        UniqueId id;
        Check(getUniqueId(&id), "ncclGetUniqueId");
        return new ReadOnlySpan<byte>(id.Bytes, UniqueIdBytes).ToArray();
    }

    /// <summary>Joins the communicator <paramref name="id"/> names as <paramref name="rank"/> on the current CUDA device.</summary>
    public IntPtr InitRank(int worldSize, byte[] id, int rank)
    {
        if (id.Length != UniqueIdBytes)
        {
            throw new ArgumentException($"an NCCL unique id has {UniqueIdBytes} bytes, got {id.Length}", nameof(id));
        }

        UniqueId value;
        id.CopyTo(new Span<byte>(value.Bytes, UniqueIdBytes));
        IntPtr comm;
        Check(commInitRank(&comm, worldSize, value, rank), "ncclCommInitRank");
        return comm;
    }

    public void Destroy(IntPtr comm) => Check(commDestroy(comm), "ncclCommDestroy");

    public void Abort(IntPtr comm) => commAbort(comm);

    public void AllReduce(IntPtr send, IntPtr receive, long count, DataType type, RedOp op, IntPtr comm, IntPtr stream) =>
        Check(allReduce(send, receive, (nuint)count, (int)type, (int)op, comm, stream), "ncclAllReduce");

    public void Broadcast(IntPtr send, IntPtr receive, long count, DataType type, int root, IntPtr comm, IntPtr stream) =>
        Check(broadcast(send, receive, (nuint)count, (int)type, root, comm, stream), "ncclBroadcast");

    public void AllGather(IntPtr send, IntPtr receive, long countPerRank, DataType type, IntPtr comm, IntPtr stream) =>
        Check(allGather(send, receive, (nuint)countPerRank, (int)type, comm, stream), "ncclAllGather");

    public void GroupStart() => Check(groupStart(), "ncclGroupStart");

    public void GroupEnd() => Check(groupEnd(), "ncclGroupEnd");

    private void Check(int code, string call)
    {
        if (code != 0)
        {
            string text = Marshal.PtrToStringUTF8(errorString(code)) ?? "unknown error";
            throw new InvalidOperationException($"{call} failed: {text} (NCCL result {code}; NCCL_DEBUG=INFO says more)");
        }
    }

    private static Nccl Load()
    {
        string? custom = Environment.GetEnvironmentVariable(LibraryVariable);
        IEnumerable<string> candidates = custom is { Length: > 0 } ? [custom] : LoadedLibraries.Matching("libnccl.so").Append("libnccl.so.2");
        foreach (string candidate in candidates)
        {
            if (NativeLibrary.TryLoad(candidate, out IntPtr handle))
            {
                return new Nccl(handle, candidate);
            }
        }

        throw new MiguUserException(
            $"NCCL (libnccl.so.2) was not found: put its directory on LD_LIBRARY_PATH (PyTorch's wheels have it in site-packages/nvidia/nccl/lib) or set {LibraryVariable}");
    }

    [StructLayout(LayoutKind.Sequential)]
    private struct UniqueId
    {
        public fixed byte Bytes[UniqueIdBytes];
    }
}
