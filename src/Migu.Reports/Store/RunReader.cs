using Migu.Continual.Recipes;
using Migu.Continual.Runs;
using Migu.Core;

namespace Migu.Reports.Store;

/// <summary>Reads run directories (recipe.json, metrics.json, loss.csv) as the runner's <see cref="RunStore"/> writes them.</summary>
public static class RunReader
{
    private static readonly EnumerationOptions SubdirectoriesNoLinks = new()
    {
        // Symbolic links carry ReparsePoint on Unix too; hidden folders are searched like any other.
        AttributesToSkip = FileAttributes.ReparsePoint,
        IgnoreInaccessible = true,
    };

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
    /// Reads several run directories, or folders that hold runs (the demo's output, a sweep's root):
    /// each is expanded by <see cref="FindRuns"/>. The same directory named twice is read once (it
    /// would count a seed twice). Names are the directories' names, made unique with the parent's name.
    /// </summary>
    public static IReadOnlyList<RunRecord> LoadAll(IEnumerable<string> directories)
    {
        List<string> given = [.. directories];
        if (given.Count == 0)
        {
            throw new MiguUserException("no run directory given");
        }

        // Keep each directory as the user spelled it, for error messages.
        List<string> dirs = [.. given.SelectMany(FindRuns).DistinctBy(FullPath, StringComparer.Ordinal)];
        List<string> names = UniqueNames([.. dirs.Select(FullPath)]);
        return [.. dirs.Select((dir, i) => Load(dir, names[i]))];
    }

    /// <summary>
    /// The run directories <paramref name="path"/> stands for: itself when it holds recipe.json or
    /// metrics.json (a run, perhaps not scored yet: <see cref="Load"/> then says what is missing),
    /// else every directory below it that holds both, in ordinal order of their paths. Runs do not
    /// nest, so the search stops at a run directory (its checkpoints/ and predictions/ are not
    /// searched), and it follows no symbolic link (no cycles, nothing outside the folder).
    /// <see cref="MiguUserException"/> when <paramref name="path"/> is missing or holds no run.
    /// </summary>
    public static IReadOnlyList<string> FindRuns(string path)
    {
        string full = Path.GetFullPath(path);
        if (!System.IO.Directory.Exists(full))
        {
            throw new MiguUserException($"{path}: no such run directory");
        }

        if (File.Exists(Path.Combine(full, RunStore.RecipeFile)) || File.Exists(Path.Combine(full, RunStore.MetricsFile)))
        {
            // A run, perhaps unscored or damaged: Load says what it lacks.
            return [path];
        }

        var runs = new List<string>();
        var unscored = new List<string>();
        Search(new DirectoryInfo(full), runs, unscored);
        if (runs.Count > 0)
        {
            return [.. runs.Order(StringComparer.Ordinal)];
        }

        throw new MiguUserException(unscored.Count > 0
            ? $"{path}: no run below it has been scored yet ({unscored.Count} with {RunStore.RecipeFile} but no {RunStore.MetricsFile}: their first task is not evaluated)"
            : $"{path}: no run directory in it or below it (a run directory holds {RunStore.RecipeFile} and {RunStore.MetricsFile})");
    }

    private static void Search(DirectoryInfo directory, List<string> runs, List<string> unscored)
    {
        foreach (DirectoryInfo child in directory.EnumerateDirectories("*", SubdirectoriesNoLinks))
        {
            bool recipe = File.Exists(Path.Combine(child.FullName, RunStore.RecipeFile));
            if (recipe && File.Exists(Path.Combine(child.FullName, RunStore.MetricsFile)))
            {
                runs.Add(child.FullName);
            }
            else if (recipe)
            {
                unscored.Add(child.FullName);
            }
            else
            {
                Search(child, runs, unscored);
            }
        }
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
