using System.Runtime.InteropServices;

namespace Migu.Core.Distributed.Native;

/// <summary>The few C library calls .NET has no API for.</summary>
internal static partial class Libc
{
    private const int RtldNow = 0x2;
    private const int RtldGlobal = 0x100;

    /// <summary>
    /// Loads a library with its symbols global. Open MPI loads its components as plugins that
    /// resolve libmpi's symbols from the global scope; .NET's own loader opens libraries locally,
    /// and then MPI_Init fails inside a plugin. Returns the handle, or 0 with the loader's message.
    /// </summary>
    public static IntPtr LoadGlobal(string path, out string? error)
    {
        IntPtr handle = dlopen(path, RtldNow | RtldGlobal);
        error = handle == IntPtr.Zero ? Marshal.PtrToStringUTF8(dlerror()) : null;
        return handle;
    }

    /// <summary>Sets a variable in the native environment (Environment.SetEnvironmentVariable does not reach getenv on Unix).</summary>
    public static void SetEnvironment(string name, string value, bool overwrite)
    {
        if (setenv(name, value, overwrite ? 1 : 0) != 0)
        {
            throw new InvalidOperationException($"setenv({name}) failed");
        }
    }

    [LibraryImport("libc.so.6", StringMarshalling = StringMarshalling.Utf8)]
    private static partial IntPtr dlopen(string path, int flags);

    [LibraryImport("libc.so.6")]
    private static partial IntPtr dlerror();

    [LibraryImport("libc.so.6", StringMarshalling = StringMarshalling.Utf8)]
    private static partial int setenv(string name, string value, int overwrite);
}
