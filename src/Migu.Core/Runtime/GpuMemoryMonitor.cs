using System.Runtime.InteropServices;

namespace Migu.Core.Runtime;

/// <summary>
/// The peak device memory in use while it runs, sampled through NVML (the driver's management
/// library, present wherever the NVIDIA driver is) every few milliseconds. libtorch's caching
/// allocator statistics are not reachable from TorchSharp, so this measures what the device reports
/// as used — the same quantity the PyTorch side of a comparison can sample with torch.cuda.mem_get_info.
/// </summary>
public sealed partial class GpuMemoryMonitor : IDisposable
{
    private const string Nvml = "libnvidia-ml.so.1";
    private readonly IntPtr device;
    private readonly Thread sampler;
    private volatile bool stopping;
    private long peak;

    private GpuMemoryMonitor(IntPtr device)
    {
        this.device = device;
        Baseline = Used();
        peak = Baseline;
        sampler = new Thread(Sample) { IsBackground = true, Name = "gpu-memory-sampler" };
        sampler.Start();
    }

    /// <summary>Bytes in use on the device when monitoring began.</summary>
    public long Baseline { get; }

    /// <summary>Most bytes in use seen so far.</summary>
    public long Peak => Interlocked.Read(ref peak);

    /// <summary>Starts sampling GPU <paramref name="index"/> (NVML's numbering); null when NVML is not available.</summary>
    public static GpuMemoryMonitor? TryStart(int index)
    {
        try
        {
            if (nvmlInit_v2() != 0 || nvmlDeviceGetHandleByIndex_v2((uint)index, out IntPtr handle) != 0)
            {
                return null;
            }

            return new GpuMemoryMonitor(handle);
        }
        catch (Exception e) when (e is DllNotFoundException or EntryPointNotFoundException)
        {
            return null;
        }
    }

    /// <summary>Restarts the peak at the current use (between benchmark cases).</summary>
    public void ResetPeak() => Interlocked.Exchange(ref peak, Used());

    public void Dispose()
    {
        stopping = true;
        sampler.Join();
        _ = nvmlShutdown();
    }

    private void Sample()
    {
        while (!stopping)
        {
            long used = Used();
            long seen;
            do
            {
                seen = Interlocked.Read(ref peak);
            }
            while (used > seen && Interlocked.CompareExchange(ref peak, used, seen) != seen);
            Thread.Sleep(2);
        }
    }

    private long Used() => nvmlDeviceGetMemoryInfo(device, out NvmlMemory m) == 0 ? (long)m.Used : 0;

    [StructLayout(LayoutKind.Sequential)]
    private struct NvmlMemory
    {
        public ulong Total;
        public ulong Free;
        public ulong Used;
    }

    [LibraryImport(Nvml)]
    private static partial int nvmlInit_v2();

    [LibraryImport(Nvml)]
    private static partial int nvmlShutdown();

    [LibraryImport(Nvml)]
    private static partial int nvmlDeviceGetHandleByIndex_v2(uint index, out IntPtr device);

    [LibraryImport(Nvml)]
    private static partial int nvmlDeviceGetMemoryInfo(IntPtr device, out NvmlMemory memory);
}
