using System.Text.Json;
using System.Text.RegularExpressions;

namespace Migu.Cli.Tests;

/// <summary>
/// What the packages ship stays in step with the repository: the README's library example is the
/// sample that .ci/package-check runs from the packages, every package the tool bundles has its
/// notice, and <c>migu --version</c> prints the one version set in Directory.Build.props.
/// </summary>
public sealed class PackagingTests
{
    [Fact]
    public void The_readme_shows_the_library_example_verbatim()
    {
        string sample = Normalize(File.ReadAllText(RepoFiles.Path("samples", "LibraryExample", "Program.cs")));
        string readme = Normalize(File.ReadAllText(RepoFiles.Path("README.md")));
        Assert.Contains("```csharp\n" + sample + "```\n", readme, StringComparison.Ordinal);
    }

    [Fact]
    public void Every_package_the_tool_bundles_is_in_the_third_party_notices_with_its_version()
    {
        // migu.deps.json beside the tests lists the NuGet packages migu loads; the tool package (linux-x64)
        // bundles those with managed code, or native code for linux-x64 (not SkiaSharp's macOS or Windows natives).
        using JsonDocument deps = JsonDocument.Parse(File.ReadAllText(Path.Combine(AppContext.BaseDirectory, "migu.deps.json")));
        JsonElement libraries = deps.RootElement.GetProperty("libraries");
        string[] packages = [.. deps.RootElement.GetProperty("targets").EnumerateObject().Single().Value.EnumerateObject()
            .Where(t => libraries.GetProperty(t.Name).GetProperty("type").GetString() == "package" && BundledOnLinuxX64(t.Value))
            .Select(t => t.Name)];
        string[] rows = [.. File.ReadAllLines(RepoFiles.Path("THIRD-PARTY-NOTICES.md")).Where(l => l.StartsWith('|'))];

        Assert.Contains(packages, p => p.StartsWith("TorchSharp/", StringComparison.Ordinal));
        Assert.All(packages, package =>
        {
            string[] idAndVersion = package.Split('/');
            var name = new Regex($@"(?<![\w.]){Regex.Escape(idAndVersion[0])}(?![\w.])");
            Assert.True(
                rows.Any(r => name.IsMatch(r) && r.Contains(idAndVersion[1], StringComparison.Ordinal)),
                $"THIRD-PARTY-NOTICES.md has no row naming {idAndVersion[0]} {idAndVersion[1]}");
        });
    }

    [Fact]
    public void Version_prints_the_version_of_Directory_Build_props()
    {
        string props = File.ReadAllText(RepoFiles.Path("Directory.Build.props"));
        string version = Regex.Match(props, "<VersionPrefix>(.+)</VersionPrefix>").Groups[1].Value;
        var (code, stdout, stderr) = MiguProcess.Run("--version");

        Assert.True(code == 0, stderr);
        Assert.Matches($@"^{Regex.Escape(version)}(\+[0-9a-f]+)?$", stdout.Trim());
    }

    private static bool BundledOnLinuxX64(JsonElement target) =>
        target.TryGetProperty("runtime", out _) || target.TryGetProperty("native", out _)
        || (target.TryGetProperty("runtimeTargets", out JsonElement byFile)
            && byFile.EnumerateObject().Any(f => f.Value.GetProperty("rid").GetString() is "linux-x64" or "linux" or "unix"));

    private static string Normalize(string text) => text.Replace("\r\n", "\n", StringComparison.Ordinal);
}
