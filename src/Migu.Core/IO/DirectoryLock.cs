using System.Globalization;
using System.Runtime.InteropServices;
using System.Text;
using Microsoft.Win32.SafeHandles;

namespace Migu.Core.IO;

/// <summary>
/// An exclusive lock on a directory that one writer owns (a run store), held from
/// <see cref="Acquire"/> to <see cref="Dispose"/>. A second holder — another process, or another
/// thread of this one — is refused at once with a <see cref="DirectoryInUseException"/> naming the
/// holder's process id, which the lock file <c>DIR/.migu.lock</c> records. The holder's own flow of
/// work (its thread, and tasks it starts) may take the lock again — a command that runs a run and
/// then writes into its directory; the lock is let go when the outermost holder disposes.
/// <para>
/// On Linux it is an open-file-description lock (<c>fcntl(F_OFD_SETLK)</c>) on the lock file: the
/// kernel drops it when the holder exits or is killed (kill -9 included), so a crashed run never
/// blocks the next one. Not flock, and not <c>FileShare.None</c> (which .NET implements with
/// flock): .NET takes a shared flock on every file it opens, so an exclusive flock would stop the
/// refused process from reading the holder's pid. The lock file is removed on release; one left by
/// a killed holder is taken over. Elsewhere the lock is <c>FileShare.None</c> and the pid is not read.
/// </para>
/// </summary>
public sealed partial class DirectoryLock : IDisposable
{
    /// <summary>The lock file's name inside the locked directory.</summary>
    public const string FileName = ".migu.lock";

    // fcntl commands and lock types (Linux, every architecture .NET runs on).
    private const int SetLock = 6; // F_SETLK
    private const int SetDescriptionLock = 37; // F_OFD_SETLK
    private const short WriteLock = 1; // F_WRLCK
    private const int ErrorInvalid = 22; // EINVAL: no open-file-description locks (kernel before 3.15)

    private static readonly Dictionary<string, Holding> Held = new(StringComparer.Ordinal);

    private readonly Holding holding;
    private bool disposed;

    private DirectoryLock(Holding holding) => this.holding = holding;

    /// <summary>The locked directory (full path).</summary>
    public string Directory => holding.Directory;

    /// <summary>
    /// Locks <paramref name="directory"/>, creating it when absent. Refuses a path that is a file
    /// (<see cref="MiguUserException"/>) and a directory another holder has (<see cref="DirectoryInUseException"/>).
    /// </summary>
    public static DirectoryLock Acquire(string directory)
    {
        string root = Path.TrimEndingDirectorySeparator(Path.GetFullPath(directory));
        lock (Held)
        {
            if (Held.TryGetValue(root, out Holding? mine))
            {
                if (!mine.Owner.Value)
                {
                    throw new DirectoryInUseException(root, Environment.ProcessId);
                }

                mine.Count++;
                return new DirectoryLock(mine);
            }

            Holding taken = Take(root);
            Held[root] = taken;
            return new DirectoryLock(taken);
        }
    }

    /// <summary>The pid a lock file records, or null when it cannot be read or holds none.</summary>
    public static int? RecordedHolder(string directory)
    {
        try
        {
            string text = File.ReadAllText(Path.Combine(directory, FileName)).Trim();
            return int.TryParse(text, NumberStyles.None, CultureInfo.InvariantCulture, out int pid) ? pid : null;
        }
        catch (Exception e) when (e is IOException or UnauthorizedAccessException)
        {
            return null;
        }
    }

    public void Dispose()
    {
        if (disposed)
        {
            return;
        }

        disposed = true;
        lock (Held)
        {
            if (--holding.Count > 0)
            {
                return;
            }

            Held.Remove(holding.Directory);
            holding.Release();
        }
    }

    /// <summary>Opens and locks ROOT/.migu.lock and writes this process's id into it.</summary>
    private static Holding Take(string root)
    {
        if (File.Exists(root))
        {
            throw new MiguUserException($"{root} is a file; give a directory");
        }

        bool created = !System.IO.Directory.Exists(root);
        string path = Path.Combine(root, FileName);
        for (int attempt = 0; ; attempt++)
        {
            System.IO.Directory.CreateDirectory(root);
            FileStream stream;
            try
            {
                stream = OperatingSystem.IsLinux()
                    ? new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete)
                    : new FileStream(path, FileMode.OpenOrCreate, FileAccess.ReadWrite, FileShare.Delete);
            }
            catch (DirectoryNotFoundException) when (attempt < 8)
            {
                continue; // a releasing holder removed the directory it had created: make it again
            }
            catch (IOException) when (!OperatingSystem.IsLinux())
            {
                throw new DirectoryInUseException(root, holderPid: null);
            }

            if (OperatingSystem.IsLinux() && !TryLock(stream.SafeFileHandle))
            {
                stream.Dispose();
                throw new DirectoryInUseException(root, RecordedHolder(root));
            }

            if (OperatingSystem.IsLinux() && Unlinked(stream.SafeFileHandle) && attempt < 8)
            {
                // The file was removed by the holder that released it between our open and our lock:
                // a lock on it excludes no one. Open the path afresh.
                stream.Dispose();
                continue;
            }

            stream.SetLength(0);
            stream.Write(Encoding.ASCII.GetBytes(Environment.ProcessId.ToString(CultureInfo.InvariantCulture) + "\n"));
            stream.Flush();
            return new Holding(root, path, stream, created);
        }
    }

    internal static bool TryLock(SafeFileHandle handle)
    {
        var region = new LockRegion { Type = WriteLock, Whence = 0, Start = 0, Length = 0 }; // the whole file
        if (fcntl(handle, SetDescriptionLock, ref region) == 0)
        {
            return true;
        }

        if (Marshal.GetLastPInvokeError() == ErrorInvalid && fcntl(handle, SetLock, ref region) == 0)
        {
            return true; // an old kernel: a process-wide lock, which the in-process holder table completes
        }

        return false; // EAGAIN or EACCES: another description holds it
    }

    /// <summary>Whether the open file no longer has a name (Linux shows "(deleted)" after its /proc link).</summary>
    private static bool Unlinked(SafeFileHandle handle)
    {
        string link = $"/proc/self/fd/{handle.DangerousGetHandle().ToInt64().ToString(CultureInfo.InvariantCulture)}";
        return new FileInfo(link).LinkTarget is string target && target.EndsWith(" (deleted)", StringComparison.Ordinal);
    }

    [LibraryImport("libc.so.6", SetLastError = true)]
    private static partial int fcntl(SafeFileHandle fd, int command, ref LockRegion region);

    /// <summary>struct flock of 64-bit Linux (l_type, l_whence, l_start, l_len, l_pid).</summary>
    [StructLayout(LayoutKind.Sequential)]
    private struct LockRegion
    {
        public short Type;
        public short Whence;
        public long Start;
        public long Length;
        public int Pid;
    }

    /// <summary>One directory this process holds: the open lock file and how many nested holders share it.</summary>
    private sealed class Holding(string directory, string path, FileStream stream, bool created)
    {
        public string Directory { get; } = directory;

        /// <summary>True in the flow of work that took the lock (and work it starts), false elsewhere: who may take it again.</summary>
        public AsyncLocal<bool> Owner { get; } = new() { Value = true };

        public int Count { get; set; } = 1;

        /// <summary>Removes the lock file while still holding it, then closes it (which drops the lock); a directory made only for the lock goes too.</summary>
        public void Release()
        {
            try
            {
                File.Delete(path);
            }
            catch (Exception e) when (e is IOException or UnauthorizedAccessException)
            {
                // Left behind, it is only a stale lock file: the next holder takes it over.
            }

            stream.Dispose();
            if (created && System.IO.Directory.Exists(Directory) && !System.IO.Directory.EnumerateFileSystemEntries(Directory).Any())
            {
                try
                {
                    System.IO.Directory.Delete(Directory);
                }
                catch (IOException)
                {
                    // Someone wrote into it meanwhile; it stays.
                }
            }
        }
    }
}

/// <summary>A directory another process (or another thread of this one) holds the lock of; <see cref="HolderPid"/> is its process id when known.</summary>
public sealed class DirectoryInUseException : MiguUserException
{
    public DirectoryInUseException()
    {
    }

    public DirectoryInUseException(string message)
        : base(message)
    {
    }

    public DirectoryInUseException(string message, Exception innerException)
        : base(message, innerException)
    {
    }

    public DirectoryInUseException(string directory, int? holderPid)
        : base($"{directory} is in use by another migu process ({(holderPid is int pid ? $"pid {pid.ToString(CultureInfo.InvariantCulture)}" : "pid unknown")}, named in its {DirectoryLock.FileName}); wait for it to finish or stop it, then run again")
    {
        Directory = directory;
        HolderPid = holderPid;
    }

    public string Directory { get; } = string.Empty;

    public int? HolderPid { get; }
}
