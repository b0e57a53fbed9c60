using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Core.Distributed;

/// <summary>The process group a launched job gets on a device: NCCL for GPUs, MPI for CPUs.</summary>
public static class ProcessGroups
{
    /// <summary>The group of the job that launched this process on <paramref name="device"/>, or null when no launcher did.</summary>
    public static IProcessGroup? FromEnvironment(Device device) =>
        LaunchInfo.FromEnvironment() is { } launch ? Create(launch, device) : null;

    /// <summary>
    /// NCCL on a CUDA device; MPI on the CPU when an MPI launcher started the job; a one-rank
    /// group for a lone CPU process. CPU jobs of several ranks without MPI are refused: they would
    /// need a network layer of our own.
    /// </summary>
    public static IProcessGroup Create(LaunchInfo launch, Device device)
    {
        ArgumentNullException.ThrowIfNull(launch);
        if (device.type == DeviceType.CUDA)
        {
            return NcclProcessGroup.Create(launch, device);
        }

        if (launch.MpiLaunched)
        {
            return MpiProcessGroup.Join(launch);
        }

        if (launch.WorldSize == 1)
        {
            return new SingleProcessGroup(device);
        }

        throw new MiguUserException(
            $"{launch.WorldSize} CPU processes need MPI to talk: start them with mpirun -np {launch.WorldSize} (or srun); --nproc and RANK/WORLD_SIZE launches drive NCCL on GPUs");
    }

    /// <summary>
    /// The device rank <paramref name="launch"/> computes on, from the recipe's device: "cuda" (or
    /// "auto" where CUDA is) becomes the GPU of the local rank, or cuda:0 when the launcher left one
    /// GPU visible to each process (CUDA_VISIBLE_DEVICES); the CPU stays the CPU.
    /// </summary>
    public static string DeviceFor(LaunchInfo launch, string requested, int visibleGpus)
    {
        ArgumentNullException.ThrowIfNull(launch);
        ArgumentNullException.ThrowIfNull(requested);
        string name = requested.Trim().ToLowerInvariant();
        if (name == "cpu" || (name == "auto" && visibleGpus == 0))
        {
            return "cpu";
        }

        if (name.StartsWith("cuda:", StringComparison.Ordinal))
        {
            return launch.WorldSize == 1
                ? name
                : throw new MiguUserException($"device '{requested}' names one GPU for {launch.WorldSize} ranks; use --device cuda: each rank takes the GPU of its local rank");
        }

        if (name is not ("cuda" or "auto"))
        {
            return requested; // not a device this decides; the device parser says what is wrong with it
        }

        if (visibleGpus == 1)
        {
            return "cuda:0";
        }

        return launch.LocalRank < visibleGpus
            ? $"cuda:{launch.LocalRank}"
            : throw new MiguUserException($"rank {launch.Rank} has local rank {launch.LocalRank} but this machine shows {visibleGpus} GPU(s); start at most one rank per GPU");
    }
}
