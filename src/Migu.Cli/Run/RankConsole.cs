using Migu.Core;
using Migu.Core.Distributed;

namespace Migu.Cli.Run;

/// <summary>
/// In a launched job (mpirun, srun, --nproc) every rank runs the same command; rank 0 speaks for
/// the job, so the others' standard output is dropped. Errors still reach standard error.
/// </summary>
internal static class RankConsole
{
    public static void QuietUnlessMain()
    {
        bool main;
        try
        {
            main = LaunchInfo.IsMainProcess;
        }
        catch (MiguUserException)
        {
            main = true; // malformed launch variables: the command reports them itself
        }

        if (!main)
        {
            Console.SetOut(TextWriter.Null);
        }
    }
}
