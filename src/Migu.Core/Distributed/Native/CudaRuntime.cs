using System.Runtime.InteropServices;

namespace Migu.Core.Distributed.Native;

/// <summary>
/// The two CUDA runtime calls NCCL needs around it: NCCL binds a communicator to the calling
/// thread's current device, and libtorch only switches devices inside its own calls (TorchSharp has
/// no set_device). The runtime is the libcudart libtorch already loaded, else one on the loader path.
/// </summary>
internal sealed unsafe class CudaRuntime
{
    private static readonly Lock Gate = new();
    private static CudaRuntime? instance;

    private readonly delegate* unmanaged<int, int> setDevice;
    private readonly delegate* unmanaged<int*, int> getDevice;
    private readonly delegate* unmanaged<int, IntPtr> errorString;

    private CudaRuntime(IntPtr library, string name)
    {
        IntPtr Export(string symbol) => NativeLibrary.TryGetExport(library, symbol, out IntPtr address)
            ? address
            : throw new MiguUserException($"{name} has no '{symbol}'");

        setDevice = (delegate* unmanaged<int, int>)Export("cudaSetDevice");
        getDevice = (delegate* unmanaged<int*, int>)Export("cudaGetDevice");
        errorString = (delegate* unmanaged<int, IntPtr>)Export("cudaGetErrorString");
    }

    public static CudaRuntime Get()
    {
        lock (Gate)
        {
            return instance ??= Load();
        }
    }

    /// <summary>Makes <paramref name="index"/> the calling thread's current device.</summary>
    public void SetDevice(int index)
    {
        int current = -1;
        if (getDevice(&current) == 0 && current == index)
        {
            return;
        }

        int code = setDevice(index);
        if (code != 0)
        {
            throw new InvalidOperationException($"cudaSetDevice({index}) failed: {Marshal.PtrToStringUTF8(errorString(code))}");
        }
    }

    private static CudaRuntime Load()
    {
        // The copy libtorch loaded first: two CUDA runtimes in one process would not share a context.
        IEnumerable<string> candidates = LoadedLibraries.Matching("libcudart.so")
            .Concat(["libcudart.so.13", "libcudart.so.12", "libcudart.so.11.0", "libcudart.so"]);
        foreach (string candidate in candidates)
        {
            if (NativeLibrary.TryLoad(candidate, out IntPtr handle))
            {
                return new CudaRuntime(handle, candidate);
            }
        }

        throw new MiguUserException("the CUDA runtime (libcudart) was not found; is libtorch with CUDA on LD_LIBRARY_PATH?");
    }
}
