namespace Migu.Core.Distributed.Native;

/// <summary>Shared libraries already mapped into this process (libtorch brings its CUDA runtime and often NCCL).</summary>
internal static class LoadedLibraries
{
    /// <summary>Paths of mapped files whose name starts with <paramref name="prefix"/>, from /proc/self/maps.</summary>
    public static IEnumerable<string> Matching(string prefix)
    {
        const string Maps = "/proc/self/maps";
        if (!File.Exists(Maps))
        {
            return [];
        }

        // A maps line ends with the path of the mapped file, after the fifth field.
        return File.ReadLines(Maps)
            .Select(line => line.IndexOf('/', StringComparison.Ordinal) is int at and >= 0 ? line[at..] : null)
            .OfType<string>()
            .Where(path => Path.GetFileName(path).StartsWith(prefix, StringComparison.Ordinal))
            .Distinct(StringComparer.Ordinal)
            .ToList();
    }
}
