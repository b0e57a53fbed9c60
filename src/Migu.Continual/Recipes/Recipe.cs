using System.Text.Json;
using System.Text.Json.Serialization;
using Migu.Continual.Forgetting;
using Migu.Continual.Pretraining;
using Migu.Continual.Strategies;
using Migu.Core;

namespace Migu.Continual.Recipes;

/// <summary>
/// Everything a continual-learning run needs, as one immutable record that round-trips through
/// JSON (snake_case keys: <see cref="RecipeJson"/>). <c>migu run</c>'s flags map one to one onto
/// its fields, and the run store keeps the resolved recipe so a resumed run can be checked against it.
/// </summary>
[JsonUnmappedMemberHandling(JsonUnmappedMemberHandling.Skip)] // unknown keys land in Extensions, which RecipeJson checks against the registered sections
public sealed record Recipe
{
    [Option("Task data root (CL_Benchmark layout: ROOT/<Type>/<dataset>/train.json|jsonl|csv|parquet …); absent: the embedded demo stream", Flag = "--data", Scopes = OptionScopes.Run | OptionScopes.Eval)]
    public string? Data { get; init; }

    [Option("Dataset names or task paths (a folder, or a file with 'train' in its name) in training order, comma-separated", Flag = "--tasks", Clears = "order", Scopes = OptionScopes.Run | OptionScopes.Eval)]
    public IReadOnlyList<string>? Tasks { get; init; }

    [Option("One of the papers' task orders, 1–6", Flag = "--order", Clears = "tasks", Scopes = OptionScopes.Run | OptionScopes.Eval)]
    public int? Order { get; init; }

    [Option("Checkpoint directory, hub id ORG/NAME[@REV] in the local Hugging Face cache, or preset (t5-tiny, llama-tiny, t5-large, …)", Flag = "--model", Scopes = OptionScopes.Run | OptionScopes.Eval | OptionScopes.Pretrain)]
    public string Model { get; init; } = "t5-tiny";

    [Option("Tokenizer directory or cached hub id (absent: the checkpoint's own files, or the embedded compact-2k for presets)", Flag = "--tokenizer", Scopes = OptionScopes.Run | OptionScopes.Pretrain)]
    public string? Tokenizer { get; init; }

    [Option("The continual-learning method: ft, lora, replay, inclora, olora, ewc, mtl or random", Flag = "--method")]
    [JsonConverter(typeof(MethodNameConverter))]
    public string Method { get; init; } = "ft";

    /// <summary>MIGU's settings; null = MIGU off. The random-update baseline uses its threshold too.</summary>
    public MiguOptions? Migu { get; init; }

    public LoraSettings Lora { get; init; } = new();

    public ReplaySettings Replay { get; init; } = new();

    public OLoraSettings Olora { get; init; } = new();

    public EwcSettings Ewc { get; init; } = new();

    public TrainingSettings Training { get; init; } = new();

    /// <summary>Per-task changes, keyed by dataset name.</summary>
    public IReadOnlyDictionary<string, TaskOverride>? PerTask { get; init; }

    public DataSettings DataOptions { get; init; } = new();

    public EvalSettings Eval { get; init; } = new();

    /// <summary>Continual pre-training (the DAS protocol): domains of unlabeled text instead of prompt fine-tuning; null = continual fine-tuning.</summary>
    public PretrainSettings? Pretrain { get; init; }

    /// <summary>With <see cref="Pretrain"/>: each task fine-tuned on a fresh copy of the pre-trained model and scored; null = pre-training only.</summary>
    public EndTaskSettings? EndTasks { get; init; }

    /// <summary>A decoder's general ability measured before training and after every epoch; null = off.</summary>
    public ForgettingSettings? Forgetting { get; init; }

    [Option("Run seed: data samples, initialisation, data order, dropout", Flag = "--seed", Scopes = OptionScopes.Run | OptionScopes.Eval | OptionScopes.Pretrain)]
    public long Seed { get; init; } = 42;

    // Not part of a run's identity: a run may resume on another device.
    [Option("cpu, cuda, cuda:N or auto (CUDA when there is one)", Flag = "--device", Scopes = OptionScopes.Run | OptionScopes.Eval | OptionScopes.Pretrain)]
    [Shorthand("--use-cpu", "cpu", "auto")]
    public string Device { get; init; } = "cpu";

    /// <summary>
    /// The sections of methods registered outside this library (<see cref="ContinualMethod.Section"/>),
    /// as JSON by section name; written after the built-in sections. Read one with <see cref="Section{T}"/>.
    /// </summary>
    [JsonExtensionData]
    public IDictionary<string, JsonElement>? Extensions { get; init; }

    /// <summary>A registered method's section, or its defaults when the recipe has none.</summary>
    public T Section<T>(string name)
        where T : new() =>
        Extensions is not null && Extensions.TryGetValue(name, out JsonElement json)
            ? json.Deserialize<T>(RecipeJson.Options) ?? new T()
            : new T();
}
