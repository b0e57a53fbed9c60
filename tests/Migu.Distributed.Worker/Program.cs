using Migu.Continual.Recipes;
using Migu.Continual.Runs;
using Migu.Core;
using Migu.Distributed.Worker;

// usage: Migu.Distributed.Worker RECIPE.json OUT_DIR [--stop-after-phase K] [--cancel-after TASK:STEP]
//   --stop-after-phase K   fails (exit 3) once phase K is committed: a job killed between tasks
//   --cancel-after T:S     requests a stop after step S of task T, as Ctrl-C does: a mid-task checkpoint, exit 130
if (args.Length < 2)
{
    Console.Error.WriteLine("usage: Migu.Distributed.Worker RECIPE.json OUT_DIR [--stop-after-phase K] [--cancel-after TASK:STEP]");
    return 2;
}

using var cancel = new CancellationTokenSource();
var observer = new InterruptingObserver(cancel, Option(args, "--stop-after-phase"), Option(args, "--cancel-after"));
try
{
    Recipe recipe = RecipeJson.Load(args[0]);
    RunMetrics metrics = new ContinualRunner(recipe, RunTasks.Load(recipe), args[1], observer).Run(cancel.Token);
    return metrics.Finished ? 0 : 1;
}
catch (MiguUserException e)
{
    Console.Error.WriteLine($"error: {e.Message}");
    return 2;
}
catch (OperationCanceledException)
{
    return 130;
}
catch (InterruptingObserver.StopException)
{
    return 3;
}

static string? Option(string[] args, string name) => Array.IndexOf(args, name) is int i and >= 0 && i + 1 < args.Length ? args[i + 1] : null;
