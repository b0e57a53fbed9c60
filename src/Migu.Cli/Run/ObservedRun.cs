using Migu.Continual.Runs;
using Spectre.Console;

namespace Migu.Cli.Run;

/// <summary>
/// Runs long work with the right progress display — live bars on a terminal, plain lines when
/// output is redirected — and Ctrl-C turned into a cancellation token, so the work can stop at a
/// step boundary after writing a checkpoint.
/// </summary>
internal static class ObservedRun
{
    /// <summary>Exit code of a run stopped by Ctrl-C (128 + SIGINT, as shells report it).</summary>
    public const int Interrupted = 130;

    public static T Execute<T>(Func<IRunObserver, CancellationToken, T> work)
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
