using System.Text.RegularExpressions;

namespace Migu.Continual.Tests;

/// <summary>
/// TorchSharp 0.107's <c>torch.manual_seed</c> seeds only the CPU generator; on CUDA, weights and
/// dropout drawn on the device then differ from run to run (two GPU runs of one recipe started from
/// different weights before <c>TorchSeed.All</c> existed). So library code seeds through
/// <c>TorchSeed.All</c> and never calls <c>manual_seed</c> itself.
/// </summary>
public sealed partial class SeedingRuleTests
{
    [Fact]
    public void Library_code_seeds_every_generator_through_TorchSeed()
    {
        string src = RepoFiles.Path("src");
        string[] offenders = [.. Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{Path.DirectorySeparatorChar}obj{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && !f.Contains($"{Path.DirectorySeparatorChar}bin{Path.DirectorySeparatorChar}", StringComparison.Ordinal)
                && Path.GetFileName(f) != "TorchSeed.cs")
            .Where(f => DirectSeed().IsMatch(File.ReadAllText(f)))
            .Select(f => Path.GetRelativePath(src, f))];
        Assert.Empty(offenders);
        Assert.Contains("cuda.manual_seed_all", File.ReadAllText(Path.Combine(src, "Migu.Core", "Runtime", "TorchSeed.cs")), StringComparison.Ordinal);
    }

    // manual_seed( not preceded by a letter or a dot-qualified cuda (cuda.manual_seed_all is the point).
    [GeneratedRegex(@"(?<![\w.])manual_seed\(|torch\.manual_seed\(|random\.manual_seed\(")]
    private static partial Regex DirectSeed();
}
