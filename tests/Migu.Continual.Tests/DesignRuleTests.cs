using System.Text.RegularExpressions;

namespace Migu.Continual.Tests;

/// <summary>
/// Rules of the design that a reader relies on, checked over the library's sources: model families
/// answer for themselves (no code outside Migu.Models tests a model's class or compares families),
/// and every random draw comes from the named seed purposes (no bare salts, no System.Random outside
/// the one legacy shuffler).
/// </summary>
public sealed partial class DesignRuleTests
{
    [Fact]
    public void Only_Migu_Models_knows_the_model_classes_and_families()
    {
        string[] offenders = [.. Sources().Where(f => !f.Relative.StartsWith("Migu.Models/", StringComparison.Ordinal))
            .Where(f => ClassTest().IsMatch(f.Text) || FamilyComparison().IsMatch(f.Text))
            .Select(f => f.Relative)];
        Assert.Empty(offenders);
    }

    [Fact]
    public void Seeds_are_derived_for_named_purposes_and_only_the_legacy_shuffler_uses_System_Random()
    {
        string[] salted = [.. Sources().Where(f => SaltedSeed().IsMatch(f.Text)).Select(f => f.Relative)];
        string[] random = [.. Sources().Where(f => f.Relative != "Migu.Continual/Training/Seeds.cs" && SystemRandom().IsMatch(f.Text)).Select(f => f.Relative)];
        Assert.Empty(salted);
        Assert.Empty(random);
    }

    private static IEnumerable<(string Relative, string Text)> Sources()
    {
        string src = RepoFiles.Path("src");
        char sep = Path.DirectorySeparatorChar;
        return Directory.EnumerateFiles(src, "*.cs", SearchOption.AllDirectories)
            .Where(f => !f.Contains($"{sep}obj{sep}", StringComparison.Ordinal) && !f.Contains($"{sep}bin{sep}", StringComparison.Ordinal))
            .Select(f => (Path.GetRelativePath(src, f).Replace(sep, '/'), File.ReadAllText(f)));
    }

    // "is LlamaForCausalLM", "case T5ForConditionalGeneration", a switch arm "RobertaForMaskedLM r =>", a cast.
    [GeneratedRegex(@"\b(is|case)\s+\w*For(CausalLM|ConditionalGeneration|MaskedLM|SequenceClassification)\b|\b\w+For(CausalLM|ConditionalGeneration|MaskedLM|SequenceClassification)\s+\w+\s*=>|\(\w+For(CausalLM|ConditionalGeneration|MaskedLM|SequenceClassification)\)\s*[\w(]")]
    private static partial Regex ClassTest();

    // "model.Family == …", "T5Family.Instance", "Family: …" property patterns.
    [GeneratedRegex(@"Family\s*[!=]=|\b\w+Family\.Instance\b|\{\s*Family\s*:")]
    private static partial Regex FamilyComparison();

    [GeneratedRegex(@"Seeds\.Derive\([^;]*0x[0-9A-Fa-f]")]
    private static partial Regex SaltedSeed();

    [GeneratedRegex(@"new\s+Random\(|System\.Random\b|Random\.Shared")]
    private static partial Regex SystemRandom();
}
