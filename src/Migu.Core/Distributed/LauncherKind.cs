namespace Migu.Core.Distributed;

/// <summary>Which launcher started this process, as told by the environment variables it set.</summary>
public enum LauncherKind
{
    /// <summary>RANK / WORLD_SIZE / LOCAL_RANK (torchrun style, and <c>migu run --nproc</c>).</summary>
    Env,

    /// <summary>Open MPI's mpirun (OMPI_COMM_WORLD_*).</summary>
    OpenMpi,

    /// <summary>A Hydra-based mpiexec (MPICH, Intel MPI: PMI_RANK / PMI_SIZE).</summary>
    Pmi,

    /// <summary>Slurm's srun (SLURM_PROCID / SLURM_STEP_NUM_TASKS).</summary>
    Slurm,
}
