using Migu.Continual.Runs;
using Spectre.Console;

namespace Migu.Cli.Run;

/// <summary>
/// Runs long work with the right progress display — live bars on a terminal, plain lines when
/// output is redirected — and the one Ctrl-C handler: Ctrl-C becomes a cancellation token, so the
/// work stops at a step boundary after writing a checkpoint, and then an <see cref="InterruptedRunException"/>
/// that <see cref="CliErrors.Run"/> reports (exit code 130).
/// </summary>
internal static class ObservedRun
{
    /// <summary>Exit code of a run stopped by Ctrl-C (128 + SIGINT, as shells report it).</summary>
    public const int Interrupted = 130;

    /// <summary>Runs <paramref name="work"/>, which writes its checkpoints into <paramref name="directory"/>.</summary>
    public static T Execute<T>(string directory, Func<IRunObserver, CancellationToken, T> work)
    {
        try
        {
            return Observe(work);
        }
        catch (OperationCanceledException e)
        {
            throw new InterruptedRunException($"interrupted; a checkpoint is in {directory}: run the same command again to resume", e);
        }
    }

    private static T Observe<T>(Func<IRunObserver, CancellationToken, T> work)
    {
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true; // stop at the next step boundary, after a checkpoint
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            if (!Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive)
            {
                T? result = default;
                AnsiConsole.Progress()
                    .AutoClear(false)
                    .HideCompleted(true)
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                    .Start(context => result = work(new ProgressObserver(context), cancel.Token));
                return result!;
            }

            return work(new PlainObserver(Console.Out), cancel.Token);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}

/// <summary>A run stopped by Ctrl-C after writing a checkpoint; running the same command again resumes it.</summary>
public sealed class InterruptedRunException : Exception
{
    public InterruptedRunException()
    {
    }

    public InterruptedRunException(string message)
        : base(message)
    {
    }

    public InterruptedRunException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
