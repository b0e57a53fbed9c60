using System.Reflection;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Core.Runtime;

/// <summary>Facts about the native runtime, and device selection with a clear error.</summary>
public static class TorchRuntime
{
    /// <summary>The libtorch version TorchSharp loaded (forces the native library to load).</summary>
    public static string LibTorchVersion => torch.__version__;

    /// <summary>The TorchSharp assembly version.</summary>
    public static string TorchSharpVersion =>
        typeof(torch).Assembly.GetCustomAttribute<AssemblyInformationalVersionAttribute>()?.InformationalVersion.Split('+')[0]
        ?? typeof(torch).Assembly.GetName().Version?.ToString() ?? "unknown";

    /// <summary>Parses "cpu", "cuda" or "cuda:N"; "auto" picks CUDA when available.</summary>
    public static Device ParseDevice(string text)
    {
        string name = text.Trim().ToLowerInvariant();
        if (name == "auto")
        {
            return cuda.is_available() ? CUDA : CPU;
        }

        if (name == "cpu")
        {
            return CPU;
        }

        if (name == "cuda" || name.StartsWith("cuda:", StringComparison.Ordinal))
        {
            if (!cuda.is_available())
            {
                throw new MiguUserException($"device '{text}': CUDA is not available here (is libtorch with CUDA on LD_LIBRARY_PATH? see docs/gpu.md)");
            }

            int index = 0;
            if (name.Length > 4 && (!int.TryParse(name.AsSpan(5), out index) || index < 0 || index >= cuda.device_count()))
            {
                throw new MiguUserException($"device '{text}': no such CUDA device (this machine has {cuda.device_count()})");
            }

            return new Device(DeviceType.CUDA, index);
        }

        throw new MiguUserException($"device '{text}' is not one of cpu, cuda, cuda:N, auto");
    }
}
