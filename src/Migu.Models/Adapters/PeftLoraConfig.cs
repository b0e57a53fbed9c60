using System.Text.Json;
using System.Text.Json.Nodes;
using Migu.Core.Lora;
using Migu.Models.Checkpoints;

namespace Migu.Models.Adapters;

/// <summary>
/// The part of PEFT's <c>adapter_config.json</c> (a LoraConfig) that a plain LoRA adapter needs.
/// Reading refuses what this project does not implement (DoRA, biases, fan-in-fan-out layout,
/// per-module rank or alpha patterns, layer filters, modules_to_save, initialisations that change
/// the base weights) with the key named, rather than loading an adapter that would compute
/// something else.
/// </summary>
public sealed record PeftLoraConfig
{
    public required int Rank { get; init; }

    public required double Alpha { get; init; }

    public double Dropout { get; init; }

    public bool UseRsLora { get; init; }

    public required PeftTargetModules TargetModules { get; init; }

    /// <summary>PEFT's task type: SEQ_2_SEQ_LM (T5), CAUSAL_LM (Llama), SEQ_CLS (RoBERTa classifier), or null.</summary>
    public string? TaskType { get; init; }

    public string? BaseModelNameOrPath { get; init; }

    /// <summary>LoRA settings for an adapter built from this config.</summary>
    public LoraAdapterConfig ToAdapterConfig() => new() { Rank = Rank, Alpha = Alpha, Dropout = Dropout, UseRsLora = UseRsLora };

    /// <summary>Reads and checks <paramref name="path"/>; anything that does not fit is a <see cref="CheckpointException"/> naming the key.</summary>
    public static PeftLoraConfig Read(string path)
    {
        ConfigReader config = ConfigReader.FromFile(path);
        string? peftType = config.String("peft_type");
        if (peftType != "LORA")
        {
            throw new CheckpointException($"{path}: peft_type is {(peftType is null ? "missing" : $"'{peftType}'")}, expected 'LORA'");
        }

        foreach (var (key, isOff, why) in Unsupported)
        {
            if (config.Root.TryGetProperty(key, out JsonElement value) && !isOff(value))
            {
                throw new CheckpointException($"{path}: '{key}' is {value.GetRawText()}; {why}");
            }
        }

        long rank = config.RequireLong("r");
        if (rank is <= 0 or > int.MaxValue)
        {
            throw new CheckpointException($"{path}: 'r' must be a positive integer, got {rank}");
        }

        var result = new PeftLoraConfig
        {
            Rank = (int)rank,
            Alpha = config.Double(8, "lora_alpha"), // PEFT's default
            Dropout = config.Double(0, "lora_dropout"),
            UseRsLora = config.Bool(false, "use_rslora"),
            TargetModules = ReadTargets(config, path),
            TaskType = config.String("task_type"),
            BaseModelNameOrPath = config.String("base_model_name_or_path"),
        };
        try
        {
            result.ToAdapterConfig().Validate();
        }
        catch (Core.MiguUserException e) when (e is not CheckpointException)
        {
            throw new CheckpointException($"{path}: {e.Message}", e);
        }

        return result;
    }

    /// <summary>
    /// The JSON PEFT writes (keys sorted, indent 2), with every field whose default would change what
    /// the adapter computes written out; inference_mode true, as PeftModel.save_pretrained writes it.
    /// </summary>
    public string ToJson()
    {
        var root = new SortedDictionary<string, JsonNode?>(StringComparer.Ordinal)
        {
            ["alpha_pattern"] = new JsonObject(),
            ["auto_mapping"] = null,
            ["base_model_name_or_path"] = BaseModelNameOrPath,
            ["bias"] = "none",
            ["exclude_modules"] = null,
            ["fan_in_fan_out"] = false,
            ["inference_mode"] = true,
            ["init_lora_weights"] = true,
            ["layers_pattern"] = null,
            ["layers_to_transform"] = null,
            ["lora_alpha"] = Number(Alpha),
            ["lora_bias"] = false,
            ["lora_dropout"] = Dropout,
            ["modules_to_save"] = null,
            ["peft_type"] = "LORA",
            ["r"] = Rank,
            ["rank_pattern"] = new JsonObject(),
            ["revision"] = null,
            ["target_modules"] = TargetModules.Regex is not null
                ? JsonValue.Create(TargetModules.Regex)
                : new JsonArray(TargetModules.Names!.Select(n => (JsonNode?)JsonValue.Create(n)).ToArray()),
            ["task_type"] = TaskType,
            ["use_dora"] = false,
            ["use_rslora"] = UseRsLora,
        };
        var obj = new JsonObject(root);
        return obj.ToJsonString(new JsonSerializerOptions { WriteIndented = true, IndentSize = 2 }) + "\n";
    }

    /// <summary>Keys whose non-default values this project does not implement, with why.</summary>
    private static readonly (string Key, Func<JsonElement, bool> IsOff, string Why)[] Unsupported =
    [
        ("use_dora", IsFalse, "DoRA adapters are not supported"),
        ("bias", e => e.ValueKind == JsonValueKind.Null || (e.ValueKind == JsonValueKind.String && e.GetString() == "none"), "only bias 'none' is supported (the base biases are not trained)"),
        ("fan_in_fan_out", IsFalse, "only nn.Linear's (d_out, d_in) weight layout is supported"),
        ("lora_bias", IsFalse, "LoRA B with a bias is not supported"),
        ("rank_pattern", IsEmpty, "per-module ranks are not supported"),
        ("alpha_pattern", IsEmpty, "per-module alphas are not supported"),
        ("layers_to_transform", IsEmpty, "layer filters are not supported; name the modules in target_modules"),
        ("layers_pattern", IsEmpty, "layer filters are not supported; name the modules in target_modules"),
        ("exclude_modules", IsEmpty, "exclude_modules is not supported; name the modules in target_modules"),
        ("modules_to_save", IsEmpty, "modules_to_save (full copies of other modules) is not supported"),
        ("target_parameters", IsEmpty, "LoRA on bare parameters is not supported"),
        ("layer_replication", IsEmpty, "layer replication is not supported"),
        ("trainable_token_indices", IsEmpty, "trainable tokens are not supported"),
        ("alora_invocation_tokens", IsEmpty, "activated LoRA is not supported"),
        ("use_qalora", IsFalse, "QA-LoRA is not supported"),
        ("init_lora_weights", KeepsBaseWeights, "this initialisation changes the base weights or is a LoRA variant, which is not supported"),
    ];

    private static bool IsFalse(JsonElement e) => e.ValueKind is JsonValueKind.False or JsonValueKind.Null;

    private static bool IsEmpty(JsonElement e) => e.ValueKind switch
    {
        JsonValueKind.Null => true,
        JsonValueKind.Array => e.GetArrayLength() == 0,
        JsonValueKind.Object => !e.EnumerateObject().Any(),
        JsonValueKind.String => e.GetString()!.Length == 0,
        _ => false,
    };

    /// <summary>true, false and initialisations that only set A and B; PiSSA, OLoRA, CorDA, LoftQ, LoRA-GA rewrite W, MiCA is a variant.</summary>
    private static bool KeepsBaseWeights(JsonElement e) =>
        e.ValueKind is JsonValueKind.True or JsonValueKind.False or JsonValueKind.Null
        || (e.ValueKind == JsonValueKind.String && e.GetString() is "gaussian" or "orthogonal" or "eva");

    private static PeftTargetModules ReadTargets(ConfigReader config, string path)
    {
        JsonElement? targets = config.Find("target_modules");
        if (targets is null)
        {
            throw new CheckpointException($"{path}: 'target_modules' is missing; this loader needs the adapter's modules named");
        }

        JsonElement t = targets.Value;
        if (t.ValueKind == JsonValueKind.String)
        {
            string text = t.GetString()!;
            if (text == "all-linear")
            {
                throw new CheckpointException($"{path}: target_modules 'all-linear' is not supported; list the module names");
            }

            return PeftTargetModules.FromRegex(text, path);
        }

        if (t.ValueKind == JsonValueKind.Array && t.EnumerateArray().All(e => e.ValueKind == JsonValueKind.String) && t.GetArrayLength() > 0)
        {
            return PeftTargetModules.FromNames(t.EnumerateArray().Select(e => e.GetString()!), path);
        }

        throw new CheckpointException($"{path}: 'target_modules' must be a non-empty list of module names or a regular expression");
    }

    /// <summary>An integral alpha as an integer (PEFT's type for lora_alpha is int), otherwise as it is.</summary>
    private static JsonValue Number(double value) =>
        value == Math.Floor(value) && Math.Abs(value) < long.MaxValue
            ? JsonValue.Create((long)value)
            : JsonValue.Create(value);
}
