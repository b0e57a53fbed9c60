namespace Migu.Distributed.Tests;

/// <summary>Open MPI's launcher, for the multi-process tests; CI installs it (.ci/run).</summary>
internal static class Mpi
{
    public static string? Launcher { get; } = Find("mpirun");

    /// <summary>
    /// N ranks of an assembly built beside the tests. As root in a container: allowed explicitly;
    /// more ranks than cores allowed; shared memory without the cross-process copy that containers often forbid.
    /// </summary>
    public static (int ExitCode, string Stdout, string Stderr) Run(int ranks, string assembly, params string[] args) =>
        ChildProcess.Run(
            Launcher ?? throw new InvalidOperationException("mpirun is not installed"),
            [
                "--allow-run-as-root", "--oversubscribe", "--mca", "btl_vader_single_copy_mechanism", "none",
                "-x", "OMP_NUM_THREADS", "-np", ranks.ToString(System.Globalization.CultureInfo.InvariantCulture),
                "dotnet", Path.Combine(AppContext.BaseDirectory, assembly), .. args,
            ]);

    private static string? Find(string program) =>
        (Environment.GetEnvironmentVariable("PATH") ?? string.Empty).Split(':', StringSplitOptions.RemoveEmptyEntries)
            .Select(dir => Path.Combine(dir, program))
            .FirstOrDefault(File.Exists);
}

/// <summary>A test that starts several MPI ranks; skipped, saying how to enable it, where mpirun is missing.</summary>
[AttributeUsage(AttributeTargets.Method)]
internal sealed class MpiFactAttribute : FactAttribute
{
    public MpiFactAttribute()
    {
        if (Mpi.Launcher is null)
        {
            Skip = "mpirun is not installed: apt-get install openmpi-bin (CI's .ci/run installs it) to run the multi-process data-parallel tests";
        }
    }
}
