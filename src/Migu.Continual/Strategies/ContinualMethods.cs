using System.Text.Json;
using System.Text.Json.Serialization;
using Migu.Continual.Recipes;
using Migu.Core;
using Migu.Models;

namespace Migu.Continual.Strategies;

/// <summary>What a method's strategy is built from.</summary>
/// <param name="Recipe">The run's recipe (the method's settings are one of its sections).</param>
/// <param name="Model">The model, already on its device (LoRA adapters are created where the weights are).</param>
/// <param name="TaskNames">The run's tasks (or domains) in order; per-task settings are keyed by them.</param>
/// <param name="BaseModel">What adapter files name as their base model; null when the method trains no adapters.</param>
public sealed record MethodContext(Recipe Recipe, LanguageModel Model, IReadOnlyList<string> TaskNames, string? BaseModel);

/// <summary>
/// One continual-learning method: its name as recipes write it, what it does, what the runners must
/// know before its strategy exists (its capabilities), and how its strategy is made. Every method
/// composes with MIGU. A new method is one strategy file plus one <see cref="ContinualMethods.Register"/> call.
/// </summary>
public sealed record ContinualMethod
{
    /// <summary>The name recipes and <c>--method</c> write (lower case).</summary>
    public required string Name { get; init; }

    /// <summary>What trains and what else happens, in one line (README's method table).</summary>
    public required string Summary { get; init; }

    /// <summary>
    /// The recipe section of a method registered outside this library, and the settings record it
    /// holds (read with <see cref="Recipe.Section{T}"/>; its <c>[Option]</c> properties become flags).
    /// Null for the built-in methods, whose sections are <see cref="Recipe"/>'s own properties.
    /// </summary>
    public (string Name, Type Type)? Section { get; init; }

    /// <summary>Whether the method trains LoRA adapters on a frozen base (so the base is saved once, and adapters name it).</summary>
    public Func<Recipe, bool> UsesAdapters { get; init; } = static _ => false;

    /// <summary>Whether the method mixes samples of earlier tasks into a task's training data (its strategy says how much: <see cref="IContinualStrategy.ReplayFraction"/>).</summary>
    public bool ReplaysPastTasks { get; init; }

    /// <summary>Whether the run trains once on the union of every task (one phase, one row of scores) instead of task after task.</summary>
    public bool JointPhase { get; init; }

    /// <summary>Whether the method can run continual pre-training (domains of text) as well as fine-tuning.</summary>
    public bool Pretraining { get; init; }

    /// <summary>The mask source the method imposes on MIGU (the random-update baseline's random masks), or null: MIGU as the recipe says.</summary>
    public MaskSource? MaskSource { get; init; }

    public required Func<MethodContext, IContinualStrategy> Create { get; init; }
}

/// <summary>The registry of methods: the built-in ones in the order reports list them, and any registered later.</summary>
public static class ContinualMethods
{
    private static readonly List<ContinualMethod> Registered =
    [
        new()
        {
            Name = "ft",
            Summary = "every parameter, task after task (`--freeze-embeddings` keeps the token embeddings)",
            Pretraining = true,
            Create = static c => new FullFineTuning(c.Model, c.Recipe.Training.FreezeEmbeddings),
        },
        new()
        {
            Name = "lora",
            Summary = "one LoRA adapter (r 8, α 32 by default) across all tasks; the base model frozen",
            UsesAdapters = static _ => true,
            Pretraining = true,
            Create = static c => new LoraStrategy(c.Model, c.Recipe.Lora, incremental: false, c.Recipe.Seed, c.BaseModel),
        },
        new()
        {
            Name = "replay",
            Summary = "ft (or lora with `--replay-base lora`) plus a fixed, label-stratified 2% of each past task's training data",
            UsesAdapters = static r => r.Replay.Base == "lora",
            ReplaysPastTasks = true,
            Pretraining = true,
            Create = static c => new ReplayStrategy(
                c.Recipe.Replay.Base is "ft" or "lora"
                    ? Get(c.Recipe.Replay.Base).Create(c)
                    : throw new MiguUserException($"replay.base must be ft or lora, got '{c.Recipe.Replay.Base}'"),
                c.Recipe.Replay.Fraction,
                c.Recipe.Seed),
        },
        new()
        {
            Name = "inclora",
            Summary = "a new adapter per task; earlier adapters frozen and summed",
            UsesAdapters = static _ => true,
            Create = static c => new LoraStrategy(c.Model, c.Recipe.Lora, incremental: true, c.Recipe.Seed, c.BaseModel),
        },
        new()
        {
            Name = "olora",
            Summary = "inclora + λ1·Σ|A_old·A_newᵀ| (orthogonality) + λ2·Σ‖new adapter‖₂, λ per task settable",
            UsesAdapters = static _ => true,
            Create = static c => new OLoraStrategy(c.Model, c.Recipe.Lora, c.Recipe.Seed, c.BaseModel, t => OLoraLambdas(c, t)),
        },
        new()
        {
            Name = "ewc",
            Summary = "ft + (λ/2)·Σ F·(θ − θ*)² with the diagonal empirical Fisher accumulated after each task",
            Pretraining = true,
            Create = static c => new ElasticWeightConsolidation(c.Model, c.Recipe.Training.FreezeEmbeddings, c.Recipe.Ewc.Lambda, c.Recipe.Ewc.FisherSamples),
        },
        new()
        {
            Name = "mtl",
            Summary = "one joint phase on the union of all tasks: the multi-task upper bound",
            JointPhase = true,
            Create = static c => new FullFineTuning(c.Model, c.Recipe.Training.FreezeEmbeddings),
        },
        new()
        {
            Name = "random",
            Summary = "ft with MIGU's mask replaced by a random one of the same size (the random-update baseline)",
            Pretraining = true,
            MaskSource = Core.MaskSource.Random,
            Create = static c => new FullFineTuning(c.Model, c.Recipe.Training.FreezeEmbeddings),
        },
    ];

    /// <summary>Every method, built-in ones first in their fixed order (reports sort groups by it).</summary>
    public static IReadOnlyList<ContinualMethod> All => Registered;

    /// <summary>Adds a method (a plug-in's); its name must be new.</summary>
    public static void Register(ContinualMethod method)
    {
        ArgumentNullException.ThrowIfNull(method);
        lock (Registered)
        {
            if (Find(method.Name) is not null)
            {
                throw new ArgumentException($"a method named '{method.Name}' is already registered", nameof(method));
            }

            Registered.Add(method);
        }
    }

    /// <summary>The method of that name (case, '_' and '-' ignored), or null.</summary>
    public static ContinualMethod? Find(string name)
    {
        ArgumentNullException.ThrowIfNull(name);
        string key = Key(name);
        return Registered.FirstOrDefault(m => Key(m.Name) == key);
    }

    /// <summary>The method of that name; an unknown name lists the known ones.</summary>
    public static ContinualMethod Get(string name) =>
        Find(name) ?? throw new MiguUserException($"unknown method '{name}' (methods: {string.Join(", ", Registered.Select(m => m.Name))})");

    /// <summary>The place of a method in <see cref="All"/>; unknown names sort last.</summary>
    public static int OrderOf(string name) => Find(name) is { } m ? Registered.IndexOf(m) : int.MaxValue;

    /// <summary>The recipe's method's strategy on <paramref name="model"/>.</summary>
    public static IContinualStrategy CreateStrategy(Recipe recipe, LanguageModel model, IReadOnlyList<string> taskNames, string? baseModel = null)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        return Get(recipe.Method).Create(new MethodContext(recipe, model, taskNames, baseModel));
    }

    /// <summary>
    /// MIGU's options for the run, or null when MIGU is off. A method that imposes a mask source
    /// (the random-update baseline) turns MIGU on with it, its threshold from the recipe's migu section
    /// (0.7 by default) and the run seed.
    /// </summary>
    public static MiguOptions? MiguOptionsFor(Recipe recipe)
    {
        ArgumentNullException.ThrowIfNull(recipe);
        return Get(recipe.Method).MaskSource is MaskSource source
            ? (recipe.Migu ?? new MiguOptions()) with { Source = source, Seed = recipe.Seed }
            : recipe.Migu;
    }

    // "O-LoRA", "o_lora" and "olora" are one name.
    private static string Key(string name) =>
        name.Replace("_", string.Empty, StringComparison.Ordinal).Replace("-", string.Empty, StringComparison.Ordinal).ToLowerInvariant();

    /// <summary>O-LoRA's λ1, λ2 for a task: the task's override, else the recipe's.</summary>
    private static (double, double) OLoraLambdas(MethodContext c, int taskIndex)
    {
        string? name = taskIndex < c.TaskNames.Count ? c.TaskNames[taskIndex] : null;
        TaskOverride? over = name is null ? null : c.Recipe.PerTask?.GetValueOrDefault(name);
        return (over?.Lambda1 ?? c.Recipe.Olora.Lambda1, over?.Lambda2 ?? c.Recipe.Olora.Lambda2);
    }
}

/// <summary>A method name in JSON: read as any registered method's name (case, '_' and '-' aside), written as the registry spells it.</summary>
public sealed class MethodNameConverter : JsonConverter<string>
{
    public override string Read(ref Utf8JsonReader reader, Type typeToConvert, JsonSerializerOptions options)
    {
        string text = reader.TokenType == JsonTokenType.String ? reader.GetString()! : throw new JsonException("a method name must be a string");
        return ContinualMethods.Find(text)?.Name
            ?? throw new JsonException($"unknown method '{text}' (methods: {string.Join(", ", ContinualMethods.All.Select(m => m.Name))})");
    }

    public override void Write(Utf8JsonWriter writer, string value, JsonSerializerOptions options)
    {
        ArgumentNullException.ThrowIfNull(writer);
        writer.WriteStringValue(value);
    }
}
