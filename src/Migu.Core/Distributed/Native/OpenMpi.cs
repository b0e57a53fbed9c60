using System.Runtime.InteropServices;
using System.Text;

namespace Migu.Core.Distributed.Native;

/// <summary>
/// Open MPI's C interface (libmpi.so.40: Open MPI 3 to 5), bound at run time. Open MPI's handles
/// (MPI_COMM_WORLD, MPI_FLOAT, MPI_SUM, …) are addresses of global objects in libmpi, so they are
/// looked up as exports. MPICH-family libraries use integer handles instead and are not supported.
/// MPI is initialised once per process and finalised at exit (or aborted, when a rank failed, so
/// that its peers are not left waiting in a collective).
/// </summary>
internal sealed unsafe class OpenMpi
{
    /// <summary>Overrides where libmpi is looked for (a path or a file name).</summary>
    public const string LibraryVariable = "MIGU_MPI_LIBRARY";

    private const int ThreadSerialized = 2; // calls come from one thread at a time
    private static readonly Lock Gate = new();
    private static OpenMpi? instance;

    private readonly delegate* unmanaged<int*, int> initialized;
    private readonly delegate* unmanaged<int*, int> finalized;
    private readonly delegate* unmanaged<int> finalize;
    private readonly delegate* unmanaged<IntPtr, int, int> abort;
    private readonly delegate* unmanaged<IntPtr, int*, int> commRank;
    private readonly delegate* unmanaged<IntPtr, int*, int> commSize;
    private readonly delegate* unmanaged<IntPtr, IntPtr, int, IntPtr, IntPtr, IntPtr, int> allReduce;
    private readonly delegate* unmanaged<IntPtr, int, IntPtr, int, IntPtr, int> bcast;
    private readonly delegate* unmanaged<IntPtr, int> barrier;
    private readonly delegate* unmanaged<IntPtr, int, IntPtr, IntPtr, int, IntPtr, IntPtr, int> allGather;
    private readonly delegate* unmanaged<IntPtr, int, IntPtr, IntPtr, int*, int*, IntPtr, IntPtr, int> allGatherV;
    private bool failed;

    private OpenMpi(IntPtr library, string name)
    {
        IntPtr Export(string name) => NativeLibrary.TryGetExport(library, name, out IntPtr address)
            ? address
            : throw new MiguUserException($"{name} has no '{name}': only Open MPI's libmpi.so.40 is supported (set {LibraryVariable} to it)");

        CommWorld = Export("ompi_mpi_comm_world");
        Float = Export("ompi_mpi_float");
        Double = Export("ompi_mpi_double");
        Int64 = Export("ompi_mpi_int64_t");
        Int32 = Export("ompi_mpi_int");
        Byte = Export("ompi_mpi_byte");
        Sum = Export("ompi_mpi_op_sum");
        initialized = (delegate* unmanaged<int*, int>)Export("MPI_Initialized");
        finalized = (delegate* unmanaged<int*, int>)Export("MPI_Finalized");
        finalize = (delegate* unmanaged<int>)Export("MPI_Finalize");
        abort = (delegate* unmanaged<IntPtr, int, int>)Export("MPI_Abort");
        commRank = (delegate* unmanaged<IntPtr, int*, int>)Export("MPI_Comm_rank");
        commSize = (delegate* unmanaged<IntPtr, int*, int>)Export("MPI_Comm_size");
        allReduce = (delegate* unmanaged<IntPtr, IntPtr, int, IntPtr, IntPtr, IntPtr, int>)Export("MPI_Allreduce");
        bcast = (delegate* unmanaged<IntPtr, int, IntPtr, int, IntPtr, int>)Export("MPI_Bcast");
        barrier = (delegate* unmanaged<IntPtr, int>)Export("MPI_Barrier");
        allGather = (delegate* unmanaged<IntPtr, int, IntPtr, IntPtr, int, IntPtr, IntPtr, int>)Export("MPI_Allgather");
        allGatherV = (delegate* unmanaged<IntPtr, int, IntPtr, IntPtr, int*, int*, IntPtr, IntPtr, int>)Export("MPI_Allgatherv");

        var getVersion = (delegate* unmanaged<byte*, int*, int>)Export("MPI_Get_library_version");
        byte* text = stackalloc byte[8192]; // MPI_MAX_LIBRARY_VERSION_STRING is 256 in Open MPI
        int length = 0;
        Version = getVersion(text, &length) == 0 ? Encoding.UTF8.GetString(text, Math.Clamp(length, 0, 8192)).Trim('\0', ' ', '\n') : "unknown";
        if (!Version.Contains("Open MPI", StringComparison.Ordinal))
        {
            throw new MiguUserException($"{name} is '{Version.Split('\n')[0]}', not Open MPI: only Open MPI's ABI is supported");
        }

        var initThread = (delegate* unmanaged<int*, byte***, int, int*, int>)Export("MPI_Init_thread");
        int flag = 0;
        Check(initialized(&flag), "MPI_Initialized");
        if (flag == 0)
        {
            int provided = 0;
            Check(initThread(null, null, ThreadSerialized, &provided), "MPI_Init_thread");
            AppDomain.CurrentDomain.ProcessExit += (_, _) => Shutdown();
        }

        int rank = 0;
        int size = 0;
        Check(commRank(CommWorld, &rank), "MPI_Comm_rank");
        Check(commSize(CommWorld, &size), "MPI_Comm_size");
        Rank = rank;
        Size = size;
    }

    public IntPtr CommWorld { get; }

    public IntPtr Float { get; }

    public IntPtr Double { get; }

    public IntPtr Int64 { get; }

    public IntPtr Int32 { get; }

    public IntPtr Byte { get; }

    public IntPtr Sum { get; }

    /// <summary>MPI_Get_library_version's text.</summary>
    public string Version { get; }

    public int Rank { get; }

    public int Size { get; }

    /// <summary>Loads libmpi and initialises MPI (once per process).</summary>
    public static OpenMpi Get()
    {
        lock (Gate)
        {
            if (instance is null)
            {
                if (!TryLoad(out IntPtr handle, out string name, out string? error))
                {
                    throw new MiguUserException($"MPI is needed here but {error} (Debian/Ubuntu: apt-get install openmpi-bin; or set {LibraryVariable})");
                }

                instance = new OpenMpi(handle, name);
            }

            return instance;
        }
    }

    /// <summary>Whether libmpi can be loaded here, without initialising MPI.</summary>
    public static bool IsAvailable() => TryLoad(out _, out _, out _);

    /// <summary>This rank leaves after an error: at exit MPI_Abort tears the job down instead of MPI_Finalize waiting for peers.</summary>
    public void MarkFailed() => failed = true;

    public void AllReduceInPlace(IntPtr buffer, int count, IntPtr datatype, IntPtr op) =>
        Check(allReduce(new IntPtr(1) /* MPI_IN_PLACE */, buffer, count, datatype, op, CommWorld), "MPI_Allreduce");

    public void Broadcast(IntPtr buffer, int count, IntPtr datatype, int root) =>
        Check(bcast(buffer, count, datatype, root, CommWorld), "MPI_Bcast");

    public void Barrier() => Check(barrier(CommWorld), "MPI_Barrier");

    public void AllGather(IntPtr send, int count, IntPtr datatype, IntPtr receive) =>
        Check(allGather(send, count, datatype, receive, count, datatype, CommWorld), "MPI_Allgather");

    public void AllGatherV(IntPtr send, int count, IntPtr receive, int[] counts, int[] displacements)
    {
        fixed (int* c = counts)
        fixed (int* d = displacements)
        {
            Check(allGatherV(send, count, Byte, receive, c, d, Byte, CommWorld), "MPI_Allgatherv");
        }
    }

    private void Shutdown()
    {
        int done = 0;
        if (finalized(&done) != 0 || done != 0)
        {
            return;
        }

        if (failed)
        {
            abort(CommWorld, 2);
        }
        else
        {
            finalize();
        }
    }

    private static bool TryLoad(out IntPtr handle, out string name, out string? error)
    {
        name = Environment.GetEnvironmentVariable(LibraryVariable) is { Length: > 0 } custom ? custom : "libmpi.so.40";
        handle = Libc.LoadGlobal(name, out string? loaderError);
        error = handle == IntPtr.Zero ? $"{name} could not be loaded ({loaderError})" : null;
        return handle != IntPtr.Zero;
    }

    private static void Check(int code, string call)
    {
        if (code != 0)
        {
            throw new InvalidOperationException($"{call} failed with MPI error {code}");
        }
    }
}
