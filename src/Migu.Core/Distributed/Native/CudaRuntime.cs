using System.Runtime.InteropServices;

namespace Migu.Core.Distributed.Native;

/// <summary>
/// Makes a GPU the calling thread's current device. NCCL binds a communicator to the current
/// device and launches there, while libtorch only switches devices inside its own calls
/// (TorchSharp has no set_device). Through the CUDA runtime libtorch already loaded (cudaSetDevice),
/// else through the driver (libcuda.so.1, always there with a GPU): the device's primary context,
/// the one the runtime uses, made current.
/// </summary>
internal sealed unsafe class CudaRuntime
{
    private static readonly Lock Gate = new();
    private static CudaRuntime? instance;

    private readonly delegate* unmanaged<int, int> setDevice;
    private readonly delegate* unmanaged<int*, int> getDevice;
    private readonly delegate* unmanaged<int, IntPtr> errorString;
    private readonly delegate* unmanaged<int*, int, int> deviceGet;
    private readonly delegate* unmanaged<IntPtr*, int, int> primaryContextRetain;
    private readonly delegate* unmanaged<IntPtr, int> contextSetCurrent;
    private readonly Dictionary<int, IntPtr> contexts = [];

    private CudaRuntime(IntPtr runtime, IntPtr driver)
    {
        static IntPtr Export(IntPtr library, string symbol) => NativeLibrary.TryGetExport(library, symbol, out IntPtr address)
            ? address
            : throw new MiguUserException($"the CUDA library has no '{symbol}'");

        if (runtime != IntPtr.Zero)
        {
            setDevice = (delegate* unmanaged<int, int>)Export(runtime, "cudaSetDevice");
            getDevice = (delegate* unmanaged<int*, int>)Export(runtime, "cudaGetDevice");
            errorString = (delegate* unmanaged<int, IntPtr>)Export(runtime, "cudaGetErrorString");
        }
        else
        {
            var init = (delegate* unmanaged<uint, int>)Export(driver, "cuInit");
            deviceGet = (delegate* unmanaged<int*, int, int>)Export(driver, "cuDeviceGet");
            primaryContextRetain = (delegate* unmanaged<IntPtr*, int, int>)Export(driver, "cuDevicePrimaryCtxRetain");
            contextSetCurrent = (delegate* unmanaged<IntPtr, int>)Export(driver, "cuCtxSetCurrent");
            Check(init(0), "cuInit");
        }
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
        if (setDevice != null)
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

            return;
        }

        if (!contexts.TryGetValue(index, out IntPtr context))
        {
            int device;
            Check(deviceGet(&device, index), "cuDeviceGet");
            Check(primaryContextRetain(&context, device), "cuDevicePrimaryCtxRetain");
            contexts[index] = context;
        }

        Check(contextSetCurrent(context), "cuCtxSetCurrent");
    }

    private static CudaRuntime Load()
    {
        // The copy libtorch loaded first; then the usual sonames on the loader path.
        IEnumerable<string> runtimes = LoadedLibraries.Matching("libcudart.so")
            .Concat(["libcudart.so.13", "libcudart.so.12", "libcudart.so"]);
        foreach (string candidate in runtimes)
        {
            if (NativeLibrary.TryLoad(candidate, out IntPtr handle) && NativeLibrary.TryGetExport(handle, "cudaSetDevice", out _))
            {
                return new CudaRuntime(handle, IntPtr.Zero);
            }
        }

        if (NativeLibrary.TryLoad("libcuda.so.1", out IntPtr driver))
        {
            return new CudaRuntime(IntPtr.Zero, driver);
        }

        throw new MiguUserException("neither the CUDA runtime (libcudart) nor the driver (libcuda.so.1) could be loaded; is this a GPU machine with libtorch's CUDA libraries on LD_LIBRARY_PATH?");
    }

    private static void Check(int code, string call)
    {
        if (code != 0)
        {
            throw new InvalidOperationException($"{call} failed with CUDA driver error {code}");
        }
    }
}
