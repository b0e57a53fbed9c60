using System.Runtime.InteropServices;
using static TorchSharp.torch;

namespace Migu.Core.Distributed.Native;

/// <summary>Raw addresses of tensor data, for the collective libraries that work on pointers.</summary>
internal static partial class TensorMemory
{
    /// <summary>The address of the first element of a contiguous tensor (a device address for CUDA tensors).</summary>
    public static IntPtr DataPointer(Tensor tensor)
    {
        if (!tensor.is_contiguous())
        {
            throw new ArgumentException("collectives work on contiguous tensors", nameof(tensor));
        }

        // TorchSharp's public Storage<T> converts dtypes and knows no bf16; its native entry point
        // gives the storage's address for any dtype and device.
        IntPtr storage = THSStorage_data_ptr(tensor.Handle);
        if (storage == IntPtr.Zero && tensor.numel() > 0)
        {
            throw new InvalidOperationException("libtorch returned no data address for a tensor");
        }

        return storage + checked((nint)(tensor.storage_offset() * tensor.element_size()));
    }

    [LibraryImport("LibTorchSharp")]
    private static partial IntPtr THSStorage_data_ptr(IntPtr tensor);
}
