using Migu.Continual.Recipes;
using Migu.Continual.Runs;
using Migu.Core;

namespace Migu.Reports.Store;

/// <summary>Reads run directories (recipe.json, metrics.json, loss.csv) as the runner's <see cref="RunStore"/> writes them.</summary>
public static class RunReader
{
    /// <summary>Reads one run directory; <see cref="MiguUserException"/> names the directory and the problem.</summary>
    public static RunRecord Load(string directory, string? name = null)
    {
        string full = Path.GetFullPath(directory);
        if (!System.IO.Directory.Exists(full))
        {
            throw new MiguUserException($"{directory}: no such run directory");
        }

        string metricsPath = Path.Combine(full, RunStore.MetricsFile);
        if (!File.Exists(metricsPath))
        {
            throw new MiguUserException($"{directory}: no {RunStore.MetricsFile}; not a run directory, or its first task has not been evaluated yet");
        }

        string recipePath = Path.Combine(full, RunStore.RecipeFile);
        if (!File.Exists(recipePath))
        {
            throw new MiguUserException($"{directory}: no {RunStore.RecipeFile}; not a run directory");
        }

        Recipe recipe = RecipeJson.Load(recipePath);
        var metrics = MetricsFile.Load(metricsPath);
        string lossPath = Path.Combine(full, RunStore.LossFile);
        return new RunRecord
        {
            Name = name ?? Path.GetFileName(full.TrimEnd(Path.DirectorySeparatorChar)),
            Directory = full,
            Recipe = recipe,
            Metrics = metrics,
            Loss = File.Exists(lossPath) ? LossLogFile.Load(lossPath) : null,
        };
    }

    /// <summary>
    /// Reads several run directories. The same directory named twice is read once (it would count
    /// a seed twice). Names are the directories' names, made unique with the parent's name.
    /// </summary>
    public static IReadOnlyList<RunRecord> LoadAll(IEnumerable<string> directories)
    {
        List<string> given = [.. directories];
        if (given.Count == 0)
        {
            throw new MiguUserException("no run directory given");
        }

        // Keep each directory as the user spelled it, for error messages.
        List<string> dirs = [.. given.DistinctBy(FullPath, StringComparer.Ordinal)];
        List<string> names = UniqueNames([.. dirs.Select(FullPath)]);
        return [.. dirs.Select((dir, i) => Load(dir, names[i]))];
    }

    private static string FullPath(string dir) => Path.GetFullPath(dir).TrimEnd(Path.DirectorySeparatorChar);

    private static List<string> UniqueNames(List<string> fullPaths)
    {
        List<string> names = [.. fullPaths.Select(p => Path.GetFileName(p))];
        List<string> withParent = [.. fullPaths.Select(p => $"{Path.GetFileName(Path.GetDirectoryName(p))}/{Path.GetFileName(p)}")];
        var result = new List<string>();
        for (int i = 0; i < names.Count; i++)
        {
            string name = names.Count(n => n == names[i]) > 1 ? withParent[i] : names[i];
            string unique = name;
            for (int k = 2; result.Contains(unique); k++)
            {
                unique = $"{name}#{k}";
            }

            result.Add(unique);
        }

        return result;
    }
}
