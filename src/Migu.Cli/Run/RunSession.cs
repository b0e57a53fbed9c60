using Migu.Continual.Recipes;
using Migu.Continual.Runs;
using Spectre.Console;

namespace Migu.Cli.Run;

/// <summary>
/// Runs one recipe into one directory with the right progress display (live bars on a terminal,
/// plain lines otherwise) and Ctrl-C turned into a resumable stop: the runner writes a mid-task
/// checkpoint, and running the same command again continues from it.
/// </summary>
internal static class RunSession
{
    /// <summary>Exit code of a run stopped by Ctrl-C (128 + SIGINT, as shells report it).</summary>
    public const int Interrupted = 130;

    public static RunMetrics Execute(Recipe recipe, string outDirectory, string? title = null)
    {
        IReadOnlyList<LoadedTask> tasks = RunTasks.Load(recipe);
        using var cancel = new CancellationTokenSource();
        ConsoleCancelEventHandler onCancel = (_, e) =>
        {
            e.Cancel = true; // stop at the next step boundary, after a checkpoint
            cancel.Cancel();
        };
        Console.CancelKeyPress += onCancel;
        try
        {
            if (title is not null)
            {
                AnsiConsole.MarkupLine($"[bold]{Markup.Escape(title)}[/] → {Markup.Escape(Path.GetFullPath(outDirectory))}");
            }

            if (!Console.IsOutputRedirected && AnsiConsole.Profile.Capabilities.Interactive)
            {
                RunMetrics? result = null;
                AnsiConsole.Progress()
                    .AutoClear(false)
                    .HideCompleted(true)
                    .Columns(new TaskDescriptionColumn(), new ProgressBarColumn(), new PercentageColumn(), new ElapsedTimeColumn(), new RemainingTimeColumn())
                    .Start(context => result = new ContinualRunner(recipe, tasks, outDirectory, new ProgressObserver(context)).Run(cancel.Token));
                return result!;
            }

            return new ContinualRunner(recipe, tasks, outDirectory, new PlainObserver(Console.Out)).Run(cancel.Token);
        }
        finally
        {
            Console.CancelKeyPress -= onCancel;
        }
    }
}
