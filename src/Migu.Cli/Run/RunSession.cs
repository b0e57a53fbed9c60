using Migu.Continual.Recipes;
using Migu.Continual.Runs;
using Spectre.Console;

namespace Migu.Cli.Run;

/// <summary>
/// Runs one recipe into one directory through <see cref="ObservedRun"/> (live bars on a terminal,
/// plain lines otherwise) with Ctrl-C turned into a resumable stop: the runner writes a mid-task
/// checkpoint, and running the same command again continues from it.
/// </summary>
internal static class RunSession
{
    public static RunMetrics Execute(Recipe recipe, string outDirectory, string? title = null)
    {
        IReadOnlyList<LoadedTask> tasks = RunTasks.Load(recipe);
        if (title is not null)
        {
            AnsiConsole.MarkupLine($"[bold]{Markup.Escape(title)}[/] → {Markup.Escape(Path.GetFullPath(outDirectory))}");
        }

        return ObservedRun.Execute(outDirectory, (observer, cancel) => new ContinualRunner(recipe, tasks, outDirectory, observer).Run(cancel));
    }
}
