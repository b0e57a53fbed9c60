using Migu.Core.IO;

namespace Migu.Core.Tests;

/// <summary>
/// The run-directory lock within one process; tests/Migu.Cli.Tests/RunDirectoryTests holds it from
/// two processes and kills the holder with SIGKILL.
/// </summary>
public sealed class DirectoryLockTests : IDisposable
{
    private readonly string root = Directory.CreateTempSubdirectory("migu-lock").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    [Fact]
    public void Another_thread_is_refused_naming_this_process_until_the_holder_lets_go()
    {
        string dir = Path.Combine(root, "run");
        DirectoryLock held = Elsewhere(() => DirectoryLock.Acquire(dir)); // another run of this process takes it

        Assert.Equal($"{Environment.ProcessId}", File.ReadAllText(Path.Combine(dir, DirectoryLock.FileName)).Trim());
        var refused = Assert.Throws<DirectoryInUseException>(() => DirectoryLock.Acquire(dir));
        Assert.Equal(Environment.ProcessId, refused.HolderPid);
        Assert.Contains($"pid {Environment.ProcessId}", refused.Message, StringComparison.Ordinal);

        held.Dispose();
        using DirectoryLock mine = DirectoryLock.Acquire(dir);
        Assert.Equal(Path.GetFullPath(dir), mine.Directory);
    }

    [Fact]
    public void The_lock_is_per_open_file_so_a_second_descriptor_of_this_process_cannot_take_it()
    {
        // F_SETLK (a process-wide lock) would grant this; the open-file-description lock must not.
        string dir = Path.Combine(root, "run");
        using DirectoryLock held = DirectoryLock.Acquire(dir);
        using var second = new FileStream(Path.Combine(dir, DirectoryLock.FileName), FileMode.Open, FileAccess.ReadWrite, FileShare.ReadWrite | FileShare.Delete);

        Assert.False(DirectoryLock.TryLock(second.SafeFileHandle));
    }

    [Fact]
    public void The_holder_may_take_it_again_and_the_last_release_removes_the_lock_file_and_a_directory_made_for_it()
    {
        string dir = Path.Combine(root, "fresh");
        DirectoryLock outer = DirectoryLock.Acquire(dir);
        DirectoryLock inner = DirectoryLock.Acquire(dir);
        inner.Dispose();
        Assert.Throws<DirectoryInUseException>(() => Elsewhere(() => DirectoryLock.Acquire(dir))); // still held by outer

        outer.Dispose();
        Assert.False(Directory.Exists(dir)); // nothing left of a directory that only the lock had made

        string kept = Directory.CreateDirectory(Path.Combine(root, "kept")).FullName;
        File.WriteAllText(Path.Combine(kept, "data.txt"), "x");
        DirectoryLock.Acquire(kept).Dispose();
        Assert.Equal(["data.txt"], Directory.GetFileSystemEntries(kept).Select(Path.GetFileName));
    }

    [Fact]
    public void A_lock_file_left_by_a_killed_holder_is_taken_over()
    {
        string dir = Directory.CreateDirectory(Path.Combine(root, "stale")).FullName;
        File.WriteAllText(Path.Combine(dir, DirectoryLock.FileName), "999999\n"); // its holder is gone, and so is its lock

        using DirectoryLock held = DirectoryLock.Acquire(dir);

        Assert.Equal(Environment.ProcessId, DirectoryLock.RecordedHolder(dir));
    }

    [Fact]
    public void A_path_that_is_a_file_is_refused_as_a_user_error()
    {
        string file = Path.Combine(root, "file");
        File.WriteAllText(file, "x");

        var e = Assert.Throws<MiguUserException>(() => DirectoryLock.Acquire(file));
        Assert.Contains("is a file", e.Message, StringComparison.Ordinal);
        Assert.Equal("x", File.ReadAllText(file));
    }

    /// <summary>Runs <paramref name="work"/> on another thread that does not inherit this flow's holdings (UnsafeStart: no execution context).</summary>
    private static T Elsewhere<T>(Func<T> work)
    {
        (T? result, Exception? error) = (default, null);
        var thread = new Thread(() =>
        {
            try
            {
                result = work();
            }
            catch (Exception e)
            {
                error = e;
            }
        });
        thread.UnsafeStart();
        thread.Join();
        return error is null ? result! : throw error;
    }
}
