using System.Security.Cryptography;
using System.Text;
using System.Text.Json;
using System.Text.Json.Nodes;
using Migu.Continual.Recipes;
using Migu.Continual.Runs;

namespace Migu.Continual.Tests.Runs;

/// <summary>
/// Behaviour kept through refactoring: fixed recipes (one per method, continual pre-training, the
/// forgetting probe) on tiny presets give the run store recorded in Fixtures/golden-runs/NAME/expected
/// byte for byte — metrics.json without its wall times, loss.csv without its seconds column, every
/// predictions file, pretraining.json, forgetting.json, the resolved recipe and the store's file list
/// with a hash of every safetensors file (weights, adapters, optimizer state).
/// Recorded with <c>tools/make_golden_runs.sh</c> (MIGU_WRITE_GOLDEN_RUNS=1 runs this test in writing mode).
/// Bytes are compared only on a machine whose CPU features and thread count equal the recording
/// machine's (<c>machine.txt</c>): libtorch picks its kernels by instruction set, and another set
/// rounds differently. Elsewhere the store must have the same files, recipe and shapes, and every
/// number of the training trajectory (loss.csv, pretraining.json, forgetting.json) must agree to
/// 1e-3 relative; scored answers may then differ, since a tiny model's near-ties can flip.
/// </summary>
public sealed class GoldenRunTests : IDisposable
{
    private const string WriteVariable = "MIGU_WRITE_GOLDEN_RUNS";
    private const string FixturePlaceholder = "<fixture>";
    private static readonly string[] WallTimeFields = ["total_seconds", "train_seconds", "eval_seconds", "tokens_per_second"];
    private readonly string root = Directory.CreateTempSubdirectory("migu-golden").FullName;

    public void Dispose() => Directory.Delete(root, recursive: true);

    public static TheoryData<string> Cases() =>
        [.. Directory.GetDirectories(FixtureRoot).Select(Path.GetFileName).OfType<string>().Order(StringComparer.Ordinal)];

    private static string FixtureRoot => RepoFiles.Path("tests", "Migu.Continual.Tests", "Fixtures", "golden-runs");

    [Theory]
    [MemberData(nameof(Cases))]
    public void A_fixed_recipe_gives_the_recorded_run_store(string name)
    {
        string fixture = Path.Combine(FixtureRoot, name);
        Recipe recipe = WithFixturePaths(RecipeJson.Load(Path.Combine(fixture, "recipe.json")), fixture);
        string run = Path.Combine(root, name);

        new ContinualRunner(recipe, RunTasks.Load(recipe), run).Run();

        IReadOnlyDictionary<string, string> produced = Comparable(run, fixture);
        string expectedRoot = Path.Combine(fixture, "expected");
        if (Environment.GetEnvironmentVariable(WriteVariable) == "1")
        {
            Write(expectedRoot, produced);
            File.WriteAllText(MachineFile, Machine() + "\n");
            return;
        }

        IReadOnlyDictionary<string, string> expected = Directory.GetFiles(expectedRoot, "*", SearchOption.AllDirectories)
            .ToDictionary(f => Path.GetRelativePath(expectedRoot, f).Replace('\\', '/'), File.ReadAllText, StringComparer.Ordinal);
        Assert.Equal(expected.Keys.Order(StringComparer.Ordinal), produced.Keys.Order(StringComparer.Ordinal));
        bool sameMachine = File.Exists(MachineFile) && File.ReadAllText(MachineFile).Trim() == Machine();
        foreach (var (file, text) in expected)
        {
            if (sameMachine || file == "recipe.json")
            {
                Assert.True(text == produced[file], $"{name}/{file} differs from the recorded run:\n--- recorded\n{text}\n--- now\n{produced[file]}");
            }
            else if (file is "loss.csv" or "pretraining.json" or "forgetting.json")
            {
                AssertNumbersClose(name, file, text, produced[file]);
            }
            else if (file == "files.txt")
            {
                Assert.Equal(WithoutHashes(text), WithoutHashes(produced[file]));
            }
        }
    }

    private static string MachineFile => Path.Combine(FixtureRoot, "machine.txt");

    /// <summary>What decides libtorch's rounding here: the CPU's vector features and the thread count.</summary>
    private static string Machine()
    {
        string[] flags = File.Exists("/proc/cpuinfo")
            ? [.. File.ReadLines("/proc/cpuinfo").FirstOrDefault(l => l.StartsWith("flags", StringComparison.Ordinal))?.Split(' ', StringSplitOptions.RemoveEmptyEntries) ?? []]
            : [];
        string vector = string.Join(' ', flags.Where(f => f.StartsWith("avx", StringComparison.Ordinal) || f.StartsWith("amx", StringComparison.Ordinal) || f is "fma" or "f16c").Order(StringComparer.Ordinal));
        return $"{System.Runtime.InteropServices.RuntimeInformation.ProcessArchitecture} threads={TorchSharp.torch.get_num_threads()} {vector}";
    }

    private static string WithoutHashes(string listing) =>
        string.Concat(listing.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line.Split(' ')[0] + "\n"));

    /// <summary>The same text with every number within 1e-3 relative (1e-6 absolute) of the recorded one.</summary>
    private static void AssertNumbersClose(string name, string file, string expected, string actual)
    {
        var number = new System.Text.RegularExpressions.Regex(@"-?\d+(\.\d+)?([eE][-+]?\d+)?");
        Assert.True(number.Replace(expected, "#") == number.Replace(actual, "#"), $"{name}/{file}: its text differs from the recorded run beyond its numbers");
        var want = number.Matches(expected).Select(m => double.Parse(m.Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        var got = number.Matches(actual).Select(m => double.Parse(m.Value, System.Globalization.CultureInfo.InvariantCulture)).ToList();
        for (int i = 0; i < want.Count; i++)
        {
            Assert.True(
                Math.Abs(want[i] - got[i]) <= 1e-6 + 1e-3 * Math.Abs(want[i]),
                $"{name}/{file}: number {i} is {got[i]}, recorded {want[i]}");
        }
    }

    /// <summary>The forgetting probe's files are named relative to the fixture; the runner reads them from the working directory.</summary>
    private static Recipe WithFixturePaths(Recipe recipe, string fixture) => recipe.Forgetting is { } f
        ? recipe with
        {
            Forgetting = f with
            {
                MultipleChoice = [.. f.MultipleChoice.Select(p => Path.Combine(fixture, p))],
                Perplexity = [.. f.Perplexity.Select(p => Path.Combine(fixture, p))],
            },
        }
        : recipe;

    /// <summary>The store's files that must not change, as text, keyed by their path in the store (wall times removed).</summary>
    private static Dictionary<string, string> Comparable(string run, string fixture)
    {
        var files = new Dictionary<string, string>(StringComparer.Ordinal);
        var listing = new StringBuilder();
        foreach (string path in Directory.GetFiles(run, "*", SearchOption.AllDirectories).Select(f => Path.GetRelativePath(run, f).Replace('\\', '/')).Order(StringComparer.Ordinal))
        {
            if (path.StartsWith("events/", StringComparison.Ordinal) || path == RunStore.LogFile)
            {
                continue; // time-stamped by design
            }

            listing.Append(path);
            if (path.EndsWith(".safetensors", StringComparison.Ordinal))
            {
                // The weights themselves: a refactoring that changed any value of any tensor changes this.
                listing.Append(' ').Append(Convert.ToHexStringLower(SHA256.HashData(File.ReadAllBytes(Path.Combine(run, path)))));
            }

            listing.Append('\n');
            string text = File.ReadAllText(Path.Combine(run, path));
            if (path == RunStore.MetricsFile)
            {
                files["metrics.json"] = WithoutWallTimes(text);
            }
            else if (path == RunStore.LossFile)
            {
                files["loss.csv"] = string.Concat(text.Split('\n', StringSplitOptions.RemoveEmptyEntries).Select(line => line[..line.LastIndexOf(',')] + "\n"));
            }
            else if (path == RunStore.RecipeFile)
            {
                files["recipe.json"] = text.Replace(JsonEncodedText.Encode(fixture).ToString(), FixturePlaceholder, StringComparison.Ordinal);
            }
            else if (path.StartsWith("predictions/", StringComparison.Ordinal) || path is "pretraining.json" or "forgetting.json")
            {
                files[path] = text;
            }
        }

        files["files.txt"] = listing.ToString();
        return files;
    }

    private static string WithoutWallTimes(string metricsJson)
    {
        JsonNode node = JsonNode.Parse(metricsJson)!;
        void Strip(JsonNode? n)
        {
            if (n is JsonObject o)
            {
                foreach (string field in WallTimeFields)
                {
                    o.Remove(field);
                }

                foreach (var (_, child) in o.ToList())
                {
                    Strip(child);
                }
            }
            else if (n is JsonArray a)
            {
                foreach (JsonNode? child in a)
                {
                    Strip(child);
                }
            }
        }

        Strip(node);
        return node.ToJsonString(new JsonSerializerOptions { WriteIndented = true }) + "\n";
    }

    private static void Write(string expectedRoot, IReadOnlyDictionary<string, string> files)
    {
        if (Directory.Exists(expectedRoot))
        {
            Directory.Delete(expectedRoot, recursive: true);
        }

        foreach (var (file, text) in files)
        {
            string path = Path.Combine(expectedRoot, file);
            Directory.CreateDirectory(Path.GetDirectoryName(path)!);
            File.WriteAllText(path, text, new UTF8Encoding(false));
        }
    }
}
