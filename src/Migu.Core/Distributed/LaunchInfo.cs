using System.Globalization;

namespace Migu.Core.Distributed;

/// <summary>
/// This process's place in a launched job: its rank, the number of ranks, and its rank on this
/// machine (which picks its GPU), read from the variables the launcher set. Precedence, first
/// match wins: RANK/WORLD_SIZE (torchrun style, <c>migu run --nproc</c>), Open MPI's
/// OMPI_COMM_WORLD_*, Hydra's PMI_RANK/PMI_SIZE (MPICH, Intel MPI), srun's SLURM_PROCID with
/// SLURM_STEP_NUM_TASKS (set for a job step only, so a batch script that runs migu without srun is
/// not taken for rank 0 of a job). A launcher counts when both its rank and its size are set.
/// MASTER_ADDR/MASTER_PORT, where set, name the rendezvous for NCCL's id.
/// </summary>
public sealed record LaunchInfo
{
    public required int Rank { get; init; }

    public required int WorldSize { get; init; }

    /// <summary>Rank among the processes on this machine; rank r uses GPU r.</summary>
    public required int LocalRank { get; init; }

    public required LauncherKind Launcher { get; init; }

    /// <summary>MASTER_ADDR: where rank 0 listens for the rendezvous (TCP), or null.</summary>
    public string? MasterAddress { get; init; }

    /// <summary>MASTER_PORT, or null.</summary>
    public int? MasterPort { get; init; }

    /// <summary>Rank 0 writes the run store and prints; the others only compute.</summary>
    public bool IsMain => Rank == 0;

    /// <summary>Whether an MPI launcher started the job, so MPI_Init joins it.</summary>
    public bool MpiLaunched => Launcher is LauncherKind.OpenMpi or LauncherKind.Pmi or LauncherKind.Slurm;

    /// <summary>Whether this process is rank 0 or not part of a launched job at all.</summary>
    public static bool IsMainProcess => FromEnvironment()?.IsMain ?? true;

    /// <summary>The job this process belongs to, or null when no launcher started it.</summary>
    public static LaunchInfo? FromEnvironment() => Detect(Environment.GetEnvironmentVariable);

    /// <summary>Reads a launch from <paramref name="env"/> (a variable's value, or null when unset).</summary>
    public static LaunchInfo? Detect(Func<string, string?> env)
    {
        ArgumentNullException.ThrowIfNull(env);
        (LauncherKind Kind, string Rank, string Size, string? Local)[] launchers =
        [
            (LauncherKind.Env, "RANK", "WORLD_SIZE", "LOCAL_RANK"),
            (LauncherKind.OpenMpi, "OMPI_COMM_WORLD_RANK", "OMPI_COMM_WORLD_SIZE", "OMPI_COMM_WORLD_LOCAL_RANK"),
            (LauncherKind.Pmi, "PMI_RANK", "PMI_SIZE", "MPI_LOCALRANKID"),
            (LauncherKind.Slurm, "SLURM_PROCID", "SLURM_STEP_NUM_TASKS", "SLURM_LOCALID"),
        ];
        foreach (var (kind, rankName, sizeName, localName) in launchers)
        {
            if (env(rankName) is null || env(sizeName) is null)
            {
                continue;
            }

            int size = Parse(env, sizeName, min: 1, max: int.MaxValue, required: true)!.Value;
            int rank = Parse(env, rankName, min: 0, max: size - 1, required: true)!.Value;
            // Without a local rank (some Hydra versions) the job is taken to be on one machine.
            int local = (localName is null ? null : Parse(env, localName, min: 0, max: size - 1, required: false)) ?? rank;
            return new LaunchInfo
            {
                Rank = rank,
                WorldSize = size,
                LocalRank = local,
                Launcher = kind,
                MasterAddress = string.IsNullOrWhiteSpace(env("MASTER_ADDR")) ? null : env("MASTER_ADDR")!.Trim(),
                MasterPort = Parse(env, "MASTER_PORT", min: 1, max: 65535, required: false),
            };
        }

        return null;
    }

    private static int? Parse(Func<string, string?> env, string name, int min, int max, bool required)
    {
        string? text = env(name);
        if (string.IsNullOrWhiteSpace(text))
        {
            return required ? throw new MiguUserException($"the launcher set no {name}; it is needed with the variables beside it") : null;
        }

        if (!int.TryParse(text.Trim(), NumberStyles.None, CultureInfo.InvariantCulture, out int value) || value < min || value > max)
        {
            throw new MiguUserException($"environment variable {name}='{text}' is not a whole number in [{min}, {max}]");
        }

        return value;
    }
}
