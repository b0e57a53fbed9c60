using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Core.Distributed;

/// <summary>What every backend checks and stages before handing tensors to a collective library.</summary>
internal static class CollectiveTensors
{
    /// <summary>Refuses a tensor that is not on the group's device.</summary>
    public static void CheckDevice(Tensor tensor, Device device)
    {
        // Devices are compared by kind and (for accelerators) index; Device objects are not values.
        if (tensor.device_type != device.type || (device.type != DeviceType.CPU && tensor.device_index != device.index))
        {
            throw new ArgumentException($"a tensor on {tensor.device} was given to a process group on {device}", nameof(tensor));
        }
    }

    /// <summary>
    /// A contiguous tensor of <paramref name="dtype"/> holding <paramref name="tensor"/>'s values: the
    /// tensor itself when it already is one, else a copy that <see cref="WriteBack"/> copies back.
    /// </summary>
    public static Tensor Staged(Tensor tensor, ScalarType dtype) =>
        tensor.is_contiguous() && tensor.dtype == dtype ? tensor : tensor.to(dtype).contiguous();

    /// <summary>Copies a staged result back into the caller's tensor (nothing to do when it was the tensor itself).</summary>
    public static void WriteBack(Tensor staged, Tensor tensor)
    {
        if (!ReferenceEquals(staged, tensor))
        {
            tensor.copy_(staged);
        }
    }
}
