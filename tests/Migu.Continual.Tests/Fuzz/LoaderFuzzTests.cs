using System.Globalization;
using System.Text;
using System.Text.Json;
using Migu.Continual.Data;
using Migu.Continual.Evaluation;
using Migu.Continual.Recipes;
using Migu.Models;
using Migu.Models.Adapters;
using Migu.Models.Checkpoints;
using Migu.Models.Tokenizers;
using Xunit.Abstractions;
using static TorchSharp.torch;

namespace Migu.Continual.Tests.Fuzz;

/// <summary>
/// Every loader a user's file reaches, fed seeded mutations of the committed fixtures: each case
/// must load or end as one user error, within a time limit and an allocation bound
/// (<see cref="FuzzCampaign"/>). MIGU_FUZZ_SCALE multiplies the case counts (CI runs 1),
/// MIGU_FUZZ_SEED changes the seed, MIGU_FUZZ_ONLY='loader#case' reruns one case.
/// </summary>
public sealed class LoaderFuzzTests(ITestOutputHelper output)
{
    private const ulong DefaultSeed = 20261205;

    private static readonly Lazy<LanguageModel> AdapterBase = new(() => ModelLoader.Load(Models("llama", "llama_gqa")));

    /// <summary>One line per loader: fixture layout, the file mutated, its kind, cases per CI run, the load.</summary>
    internal static readonly FuzzTarget[] Targets =
    [
        new("safetensors", CopyFiles(Models("t5", "v10"), "model.safetensors"), "model.safetensors", FileKind.SafeTensors, 600, LoadSafeTensors),
        new("safetensors shard index", ShardedLlama, StateDictFiles.SafeTensorsIndex, FileKind.Json, 120, LoadModel),
        new("config.json t5 v1.0", CopyDir(Models("t5", "v10")), "config.json", FileKind.Json, 150, LoadModel),
        new("config.json t5 v1.1", CopyDir(Models("t5", "v11")), "config.json", FileKind.Json, 100, LoadModel),
        new("config.json roberta mlm", CopyDir(Models("roberta", "mlm")), "config.json", FileKind.Json, 150, LoadModel),
        new("config.json roberta classifier", CopyDir(Models("roberta", "classifier")), "config.json", FileKind.Json, 100, LoadModel),
        new("config.json llama", CopyDir(Models("llama", "llama_gqa")), "config.json", FileKind.Json, 150, LoadModel),
        new("generation_config.json llama", CopyDir(Models("llama", "llama_tied_llama3")), "generation_config.json", FileKind.Json, 100, LoadModel),
        new("tokenizer.json byte-level", CopyDir(Models("tokenizers", "gpt2json")), "tokenizer.json", FileKind.Json, 400, LoadTokenizer),
        new("tokenizer.json llama 3", CopyDir(Models("tokenizers", "llama3")), "tokenizer.json", FileKind.Json, 150, LoadTokenizer),
        new("tokenizer.json llama 2", CopyDir(Models("tokenizers", "llama2")), "tokenizer.json", FileKind.Json, 150, LoadTokenizer),
        new("tokenizer_config.json", CopyDir(Models("tokenizers", "roberta")), "tokenizer_config.json", FileKind.Json, 300, LoadTokenizer),
        new("vocab.json", CopyFiles(Models("tokenizers", "roberta"), "vocab.json", "merges.txt", "tokenizer_config.json"), "vocab.json", FileKind.Json, 300, LoadTokenizer),
        new("merges.txt", CopyFiles(Models("tokenizers", "roberta"), "vocab.json", "merges.txt", "tokenizer_config.json"), "merges.txt", FileKind.Lines, 300, LoadTokenizer),
        new("spiece.model", CopyFiles(Models("tokenizers", "t5"), "spiece.model", "tokenizer_config.json"), "spiece.model", FileKind.Binary, 60, LoadTokenizer),
        new("tokenizer.model", CopyFiles(Models("tokenizers", "llama2"), "tokenizer.model", "tokenizer_config.json"), "tokenizer.model", FileKind.Binary, 200, LoadTokenizer),
        new("adapter_config.json", PeftAdapter, "adapter/adapter_config.json", FileKind.Json, 200, LoadAdapter),
        new("adapter_model.safetensors", PeftAdapter, "adapter/adapter_model.safetensors", FileKind.SafeTensors, 200, LoadAdapter),
        new("recipe roberta", CopyAs(RepoFiles.Path("recipes", "das-roberta-mini.json"), "recipe.json"), "recipe.json", FileKind.Json, 300, LoadRecipe),
        new("recipe llama", CopyAs(RepoFiles.Path("recipes", "llama-forgetting-mini.json"), "recipe.json"), "recipe.json", FileKind.Json, 200, LoadRecipe),
        new("labels.json", TaskRoot(jsonLines: false), "TC/agnews/labels.json", FileKind.Json, 300, LoadTask),
        new("task JSON", TaskRoot(jsonLines: false), "TC/agnews/train.json", FileKind.Json, 200, LoadTask),
        new("task JSON Lines", TaskRoot(jsonLines: true), "TC/agnews/train.jsonl", FileKind.Lines, 200, LoadTask),
        new("multiple-choice JSON Lines", CopyAs(RepoFiles.Path("recipes", "data", "example-mc.jsonl"), "mc.jsonl"), "mc.jsonl", FileKind.Lines, 300, dir => MultipleChoiceFile.Read(Path.Combine(dir, "mc.jsonl"))),
        new("config.json bert mlm", CopyDir(Models("bert", "mlm")), "config.json", FileKind.Json, 120, LoadModel),
        new("config.json bert classifier", CopyDir(Models("bert", "classifier")), "config.json", FileKind.Json, 100, LoadModel),
        new("config.json bert encoder as classifier", CopyDir(Models("bert", "encoder")), "config.json", FileKind.Json, 100, LoadBertClassifier),
        new("vocab.txt", CopyFiles(Models("tokenizers", "bert"), "vocab.txt", "tokenizer_config.json"), "vocab.txt", FileKind.Lines, 250, LoadTokenizer),
        new("tokenizer.json wordpiece", CopyFiles(Models("tokenizers", "bert"), "tokenizer.json", "tokenizer_config.json"), "tokenizer.json", FileKind.Json, 300, LoadTokenizer),
        new("tokenizer_config.json wordpiece", CopyFiles(Models("tokenizers", "bert"), "vocab.txt", "tokenizer_config.json"), "tokenizer_config.json", FileKind.Json, 120, LoadTokenizer),
        new("ONNX import", CopyFiles(Models("bert", "onnx"), "model.onnx", "vocab.txt"), "model.onnx", FileKind.Binary, 200, ImportGraph),
        new("task CSV", FormatTask("train.csv", "test.csv", Formats("rfc4180.csv")), "TC/news/train.csv", FileKind.Lines, 250, dir => TaskCatalog.Open(dir).Load("news")),
        new("task Parquet", FormatTask("train.parquet", "test.parquet", Formats("classlabel.parquet"), Formats("strings.parquet")), "TC/news/train.parquet", FileKind.Binary, 200, dir => TaskCatalog.Open(dir).Load("news")),
        new("task JSON Lines by path", ClassIdLines, "news-train.jsonl", FileKind.Lines, 200, LoadTaskByPath),
    ];

    public static TheoryData<string> Loaders => [.. Targets.Select(t => t.Name)];

    [Theory]
    [MemberData(nameof(Loaders))]
    public void Every_mutation_of_a_fixture_loads_or_is_one_user_error(string loader)
    {
        FuzzTarget target = Targets.Single(t => t.Name == loader);
        ulong seed = Environment.GetEnvironmentVariable("MIGU_FUZZ_SEED") is { Length: > 0 } s ? ulong.Parse(s, CultureInfo.InvariantCulture) : DefaultSeed;
        double scale = Environment.GetEnvironmentVariable("MIGU_FUZZ_SCALE") is { Length: > 0 } x ? double.Parse(x, CultureInfo.InvariantCulture) : 1.0;
        int? only = null;
        if (Environment.GetEnvironmentVariable("MIGU_FUZZ_ONLY") is { Length: > 0 } one)
        {
            int hash = one.LastIndexOf('#');
            if (one[..hash] != loader)
            {
                return;
            }

            only = int.Parse(one[(hash + 1)..], CultureInfo.InvariantCulture);
        }

        FuzzReport report = FuzzCampaign.Run(target, seed, scale, only);

        output.WriteLine(report.Summary);
        Assert.True(report.FailureCount == 0, report.Describe());
    }

    [Fact]
    public void Cases_are_reproducible_from_their_seed()
    {
        byte[] fixture = File.ReadAllBytes(Models("t5", "v10", "config.json"));
        ulong seed = FuzzCampaign.CaseSeed(DefaultSeed, "config.json t5 v1.0", 7);

        var first = new Mutator(seed, []).Mutate(fixture, FileKind.Json);
        var second = new Mutator(seed, []).Mutate(fixture, FileKind.Json);

        Assert.Equal(first.What, second.What);
        Assert.Equal(first.Bytes, second.Bytes);
        Assert.NotEqual(seed, FuzzCampaign.CaseSeed(DefaultSeed, "config.json t5 v1.0", 8));
    }

    private static string Models(params string[] parts) => RepoFiles.Path(["tests", "Migu.Models.Tests", "Fixtures", .. parts]);

    private static string Formats(string file) => RepoFiles.Path("tests", "Migu.Continual.Tests", "Fixtures", "formats", file);

    /// <summary>A data root with task news: its train split from <paramref name="train"/> and test split from <paramref name="test"/> (the same file when not given), no labels.json.</summary>
    private static Action<string> FormatTask(string trainName, string testName, string train, string? test = null) => dir =>
    {
        string task = Path.Combine(dir, "TC", "news");
        Directory.CreateDirectory(task);
        File.Copy(train, Path.Combine(task, trainName));
        File.Copy(test ?? train, Path.Combine(task, testName));
    };

    /// <summary>A task named by its file, as hfdata reads one: news-train.jsonl with "text" and class ids, news-test.jsonl, news-labels.json naming the ids.</summary>
    private static void ClassIdLines(string dir)
    {
        string source = RepoFiles.Path("src", "Migu.Continual", "Data", "Demo", "TC", "agnews");
        File.Copy(Path.Combine(source, "labels.json"), Path.Combine(dir, "news-labels.json"));
        using JsonDocument labels = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(source, "labels.json")));
        List<string> names = [.. labels.RootElement.EnumerateArray().Select(l => l.GetString()!)];
        using JsonDocument items = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(source, "test.json")));
        var lines = new StringBuilder();
        foreach (JsonElement item in items.RootElement.EnumerateArray().Take(40))
        {
            string line = JsonSerializer.Serialize(new { text = item.GetProperty("sentence").GetString(), label = names.IndexOf(item.GetProperty("label").GetString()!) });
            lines.Append(line).Append('\n');
        }

        File.WriteAllText(Path.Combine(dir, "news-train.jsonl"), lines.ToString());
        File.WriteAllText(Path.Combine(dir, "news-test.jsonl"), lines.ToString());
    }

    private static void LoadTaskByPath(string dir) =>
        TaskCatalog.Embedded(new DataSettings { TextField = "text" }).Load(Path.Combine(dir, "news-train.jsonl"));

    /// <summary>A classifier on the encoder (FromEncoder checks the config against the weights before it builds anything).</summary>
    private static void LoadBertClassifier(string dir)
    {
        using var model = Migu.Models.Bert.BertForSequenceClassification.FromEncoder(dir, ["a", "b"]);
    }

    /// <summary>The import of a graph and its vocabulary into a checkpoint directory, loaded back.</summary>
    private static void ImportGraph(string dir)
    {
        string output = Path.Combine(dir, "imported");
        Migu.Models.Import.EncoderImport.FromGraph(File.ReadAllBytes(Path.Combine(dir, "model.onnx")), File.ReadAllBytes(Path.Combine(dir, "vocab.txt")), output, "model.onnx");
        using LanguageModel model = ModelLoader.Load(output);
    }

    private static Action<string> CopyDir(string source) =>
        dir => CopyFiles(source, [.. Directory.GetFiles(source).Select(Path.GetFileName)!])(dir);

    private static Action<string> CopyFiles(string source, params string[] names) => dir =>
    {
        foreach (string name in names)
        {
            File.Copy(Path.Combine(source, name), Path.Combine(dir, name));
        }
    };

    private static Action<string> CopyAs(string source, string name) => dir => File.Copy(source, Path.Combine(dir, name));

    /// <summary>The Llama fixture split into two shards with an index, as large checkpoints are saved.</summary>
    private static void ShardedLlama(string dir)
    {
        string source = Models("llama", "llama_gqa");
        File.Copy(Path.Combine(source, "config.json"), Path.Combine(dir, "config.json"));
        Dictionary<string, Tensor> state = StateDictFiles.Load(source);
        var shards = state.Keys.Order(StringComparer.Ordinal).Select((k, i) => (Key: k, Shard: $"model-0000{(i % 2) + 1}-of-00002.safetensors")).ToList();
        foreach (var group in shards.GroupBy(s => s.Shard))
        {
            StateDictFiles.SaveSafeTensorsFile(Path.Combine(dir, group.Key), group.ToDictionary(s => s.Key, s => state[s.Key]));
        }

        var index = new { metadata = new { total_size = 0 }, weight_map = shards.ToDictionary(s => s.Key, s => s.Shard) };
        File.WriteAllText(Path.Combine(dir, StateDictFiles.SafeTensorsIndex), JsonSerializer.Serialize(index));
        foreach (Tensor t in state.Values)
        {
            t.Dispose();
        }
    }

    private static void PeftAdapter(string dir)
    {
        Directory.CreateDirectory(Path.Combine(dir, "adapter"));
        CopyFiles(Models("peft", "llama_gqa"), "adapter_config.json", "adapter_model.safetensors")(Path.Combine(dir, "adapter"));
    }

    /// <summary>A data root with agnews (its committed test split doubling as train); JSON Lines written from the same items.</summary>
    private static Action<string> TaskRoot(bool jsonLines) => dir =>
    {
        string source = RepoFiles.Path("src", "Migu.Continual", "Data", "Demo", "TC", "agnews");
        string task = Path.Combine(dir, "TC", "agnews");
        Directory.CreateDirectory(task);
        File.Copy(Path.Combine(source, "labels.json"), Path.Combine(task, "labels.json"));
        File.Copy(Path.Combine(source, "test.json"), Path.Combine(task, "test.json"));
        if (!jsonLines)
        {
            File.Copy(Path.Combine(source, "test.json"), Path.Combine(task, "train.json"));
            return;
        }

        using JsonDocument items = JsonDocument.Parse(File.ReadAllBytes(Path.Combine(source, "test.json")));
        var lines = new StringBuilder();
        foreach (JsonElement item in items.RootElement.EnumerateArray())
        {
            lines.Append(item.GetRawText().ReplaceLineEndings(" ")).Append('\n');
        }

        File.WriteAllText(Path.Combine(task, "train.jsonl"), lines.ToString());
    };

    private static void LoadSafeTensors(string dir)
    {
        foreach (Tensor t in StateDictFiles.LoadSafeTensorsFile(Path.Combine(dir, "model.safetensors")).Values)
        {
            t.Dispose();
        }
    }

    private static void LoadModel(string dir)
    {
        using LanguageModel model = ModelLoader.Load(dir);
    }

    /// <summary>Loads, then encodes and decodes a little text: a tokenizer that loads but fails on first use is no better.</summary>
    private static void LoadTokenizer(string dir)
    {
        ITextTokenizer tokenizer = TokenizerLoader.Load(dir);
        tokenizer.Decode(tokenizer.Encode("Hello world, 123 héllo </s> ünïcode 日本"));
    }

    private static void LoadAdapter(string dir)
    {
        using var lora = PeftAdapterFiles.Attach(AdapterBase.Value, Path.Combine(dir, "adapter"));
    }

    private static void LoadRecipe(string dir) => TrainingChecks.Validate(RecipeJson.Load(Path.Combine(dir, "recipe.json")));

    private static void LoadTask(string dir) => TaskCatalog.Open(dir).Load("agnews");
}
