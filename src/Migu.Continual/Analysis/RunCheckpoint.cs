using System.Globalization;
using System.Text.RegularExpressions;
using Migu.Continual.Recipes;
using Migu.Continual.Runs;
using Migu.Continual.Strategies;
using Migu.Core;
using Migu.Models.Checkpoints;

namespace Migu.Continual.Analysis;

/// <summary>
/// The model a run directory ends with: the checkpoint after its last task, or, for a run still
/// under way, the newest task checkpoint present. Full fine-tuning checkpoints hold the whole model;
/// LoRA-type checkpoints hold adapters/ over the run's base model.
/// </summary>
/// <param name="RunDirectory">The run directory as given.</param>
/// <param name="Recipe">The run's recipe.json.</param>
/// <param name="Directory">checkpoints/task-NN-name: the chosen checkpoint (its tokenizer files too).</param>
/// <param name="Phase">0-based phase the checkpoint was written after.</param>
/// <param name="Phases">Phases of the whole run (tasks, or 1 for joint multi-task training).</param>
/// <param name="Finished">metrics.json says the run is finished.</param>
public sealed partial record RunCheckpoint(string RunDirectory, Recipe Recipe, string Directory, int Phase, int Phases, bool Finished)
{
    /// <summary>The base model of a LoRA-type checkpoint (the recipe's checkpoint, or the preset's saved base); null for full checkpoints.</summary>
    public string? BaseModel { get; init; }

    /// <summary>adapters/ of a LoRA-type checkpoint, or null.</summary>
    public string? AdaptersDirectory => BaseModel is null ? null : Path.Combine(Directory, LoraStrategy.AdaptersFolder);

    /// <summary>What a reader should know about the choice; null for a finished run.</summary>
    public string? Note => Finished
        ? null
        : string.Create(CultureInfo.InvariantCulture, $"unfinished run: the newest checkpoint is {Path.GetFileName(Directory)}, after phase {Phase + 1} of {Phases}");

    /// <summary>Finds the checkpoint; <see cref="MiguUserException"/> when the directory is no run or holds no task checkpoint.</summary>
    public static RunCheckpoint Locate(string runDirectory)
    {
        if (!System.IO.Directory.Exists(runDirectory))
        {
            throw new MiguUserException($"{runDirectory}: no such run directory");
        }

        string recipePath = Path.Combine(runDirectory, RunStore.RecipeFile);
        if (!File.Exists(recipePath))
        {
            throw new MiguUserException($"{runDirectory}: no {RunStore.RecipeFile}; not a run directory");
        }

        Recipe recipe = RecipeJson.Load(recipePath);
        string metricsPath = Path.Combine(runDirectory, RunStore.MetricsFile);
        RunMetrics? metrics = File.Exists(metricsPath) ? RunStore.ReadMetrics(metricsPath) : null;

        string checkpoints = Path.Combine(runDirectory, "checkpoints");
        var found = (System.IO.Directory.Exists(checkpoints) ? System.IO.Directory.GetDirectories(checkpoints) : [])
            .Select(d => (Dir: d, Match: TaskCheckpointName().Match(Path.GetFileName(d))))
            .Where(x => x.Match.Success && IsComplete(x.Dir))
            .Select(x => (x.Dir, Phase: int.Parse(x.Match.Groups[1].Value, CultureInfo.InvariantCulture) - 1))
            .OrderBy(x => x.Phase)
            .ToList();
        if (found.Count == 0)
        {
            throw new MiguUserException($"{runDirectory}: no task checkpoint under checkpoints/ (the run has not finished a task yet)");
        }

        var (dir, phase) = found[^1];
        int phases = ContinualMethods.Find(recipe.Method)?.JointPhase == true ? 1 : metrics?.Tasks.Count ?? recipe.Tasks?.Count ?? phase + 1;
        bool finished = metrics?.Finished == true;
        bool full = ModelCheckpoint.IsCheckpointDirectory(dir);
        return new RunCheckpoint(runDirectory, recipe, dir, phase, Math.Max(phases, phase + 1), finished)
        {
            BaseModel = full ? null : BaseOf(runDirectory, recipe),
        };
    }

    /// <summary>Where a LoRA-type run's base weights are: the checkpoint the recipe names, or checkpoints/base for a preset.</summary>
    private static string BaseOf(string runDirectory, Recipe recipe)
    {
        if (ModelCheckpoint.IsCheckpointDirectory(recipe.Model))
        {
            return recipe.Model;
        }

        string saved = Path.Combine(runDirectory, "checkpoints", "base");
        return ModelCheckpoint.IsCheckpointDirectory(saved)
            ? saved
            : throw new MiguUserException($"{runDirectory}: the adapters' base model is missing (neither {recipe.Model} nor checkpoints/base holds a config.json)");
    }

    /// <summary>A full checkpoint (config.json) or an adapters-only one; a half-written one has neither.</summary>
    private static bool IsComplete(string dir) =>
        ModelCheckpoint.IsCheckpointDirectory(dir) || System.IO.Directory.Exists(Path.Combine(dir, LoraStrategy.AdaptersFolder));

    // RunStore.TaskCheckpoint names them task-01-agnews; .tmp and .old folders are writes in progress.
    [GeneratedRegex(@"^task-(\d+)-.+(?<!\.tmp)(?<!\.old)$", RegexOptions.CultureInvariant)]
    private static partial Regex TaskCheckpointName();
}
