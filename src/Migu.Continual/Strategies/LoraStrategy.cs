using System.Text.Json;
using System.Text.Json.Nodes;
using Migu.Continual.Prompts;
using Migu.Continual.Recipes;
using Migu.Continual.Runs;
using Migu.Continual.Training;
using Migu.Core;
using Migu.Core.IO;
using Migu.Core.Lora;
using Migu.Models;
using Migu.Models.Adapters;
using Migu.Models.Checkpoints;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Continual.Strategies;

/// <summary>
/// LoRA strategies: the base model is frozen and adapters train. <c>lora</c>: one adapter
/// ("default") across all tasks. <c>inclora</c>: a new adapter per task ("task1", "task2", …),
/// earlier ones frozen and summed in forward. Checkpoints hold each adapter in PEFT's layout
/// (adapters/&lt;name&gt;/adapter_config.json + adapter_model.safetensors). A classifier's head
/// (the <see cref="ProjectionKind.Head"/> projections over the run's labels, new to the base
/// model) trains with every adapter, as PEFT's modules_to_save, and is kept in head.safetensors,
/// with its labels in row order in head_labels.json (so that `migu eval` can rebuild the classifier
/// from the base encoder and the adapters alone).
/// </summary>
public class LoraStrategy : IContinualStrategy
{
    public const string AdaptersFolder = "adapters";
    public const string SingleAdapter = "default";

    /// <summary>A classifier head's weights in a checkpoint, under their state-dict names.</summary>
    public const string HeadFile = "head.safetensors";

    /// <summary>The head's labels, one per output row in order, as a JSON array beside <see cref="HeadFile"/>.</summary>
    public const string HeadLabelsFile = "head_labels.json";

    private readonly bool incremental;
    private readonly long seed;
    private readonly string? baseModel;
    private readonly LanguageModel model;
    private readonly IReadOnlyList<(string Name, Parameter Parameter)> head;

    public LoraStrategy(LanguageModel model, LoraSettings settings, bool incremental, long seed, string? baseModel)
    {
        ArgumentNullException.ThrowIfNull(settings);
        this.incremental = incremental;
        this.seed = seed;
        this.baseModel = baseModel;
        this.model = model;
        var options = new LoraOptions
        {
            Targets = settings.Targets,
            Adapter = new LoraAdapterConfig { Rank = settings.Rank, Alpha = settings.Alpha, Dropout = settings.Dropout },
        };
        Lora = LoraAdapters.Attach(model, options);
        head = HeadParameters(model);
        foreach (var (_, p) in head)
        {
            p.requires_grad = true; // the head is new: it learns the run's labels whatever the adapters do
        }
    }

    /// <summary>A classifier's head parameters (its <see cref="ProjectionKind.Head"/> projections'), by state-dict name; none for other models.</summary>
    public static IReadOnlyList<(string Name, Parameter Parameter)> HeadParameters(LanguageModel model)
    {
        ArgumentNullException.ThrowIfNull(model);
        if (!model.IsClassifier)
        {
            return [];
        }

        var modules = model.named_modules().Where(m => m.module is Projection { Kind: ProjectionKind.Head }).Select(m => m.name + ".").ToList();
        return [.. model.named_parameters().Where(p => modules.Any(m => p.name.StartsWith(m, StringComparison.Ordinal))).Select(p => (p.name, p.parameter))];
    }

    public virtual string Name => incremental ? "inclora" : "lora";

    /// <summary>The adapters on the model.</summary>
    public LoraAdapters Lora { get; }

    public LoraAdapters? Adapters => Lora;

    /// <summary>The adapter task <paramref name="taskIndex"/> trains.</summary>
    public string AdapterOf(int taskIndex) => incremental ? $"task{taskIndex + 1}" : SingleAdapter;

    public IReadOnlyList<Parameter> BeginTask(int taskIndex)
    {
        string name = AdapterOf(taskIndex);
        if (Lora.AdapterNames.Contains(name))
        {
            Lora.SetTrainable(name); // a resumed task, or the one adapter of plain LoRA
        }
        else
        {
            Lora.AddAdapter(name, Seeds.Derive(seed, SeedPurpose.AdapterInit, taskIndex)); // active and trainable; earlier ones frozen
        }

        return [.. Lora.Parameters(name), .. head.Select(h => h.Parameter)];
    }

    /// <summary>A and B of the trainable adapter on the layers MIGU's selection names.</summary>
    public IReadOnlyList<MaskTarget> MiguTargets(MiguOptions options)
    {
        ArgumentNullException.ThrowIfNull(options);
        string name = Lora.TrainableAdapter ?? throw new InvalidOperationException("no trainable adapter: call BeginTask first");
        LayerSelection selection = LayerSelection.Parse(options.Layers);
        var modules = Lora.Layers.Where(l => selection.Matches(l.ModuleName, l.Projection.Kind)).Select(l => l.ModuleName + ".").ToList();
        var targets = Lora.MiguTargets(name).Where(t => modules.Any(m => t.Name.StartsWith(m, StringComparison.Ordinal))).ToList();
        if (head.Count > 0)
        {
            targets.AddRange(MiguController.SelectTargets(model, options)); // only the head trains outside the adapters
        }

        return targets.Count > 0
            ? targets
            : throw new MiguUserException($"MIGU layers '{options.Layers}' select none of the LoRA layers ({Lora.Options.Targets})");
    }

    public virtual IReadOnlyList<PromptedExample> TrainingData(int taskIndex, IReadOnlyList<LoadedTask> tasks) => tasks[taskIndex].Train;

    public virtual Tensor? ExtraLoss(int taskIndex) => null;

    public void EndTask(TaskEndContext context)
    {
    }

    public void SaveCheckpoint(string directory)
    {
        foreach (string name in Lora.AdapterNames)
        {
            PeftAdapterFiles.Save(Lora, name, Path.Combine(directory, AdaptersFolder, name), baseModel);
        }

        if (head.Count > 0)
        {
            StateDictFiles.SaveSafeTensorsFile(Path.Combine(directory, HeadFile), head.ToDictionary(h => h.Name, h => (Tensor)h.Parameter, StringComparer.Ordinal));
            var labels = new JsonArray([.. (model.ClassLabels ?? []).Select(l => (JsonNode?)JsonValue.Create(l))]);
            AtomicFile.WriteAllText(Path.Combine(directory, HeadLabelsFile), labels.ToJsonString());
        }
    }

    /// <summary>
    /// The checkpoint folder that holds the head trained with the adapter in <paramref name="adapterDirectory"/>
    /// (checkpoint/adapters/NAME → checkpoint), and the head's labels in row order.
    /// </summary>
    public static (string Directory, IReadOnlyList<string> Labels) HeadBeside(string adapterDirectory)
    {
        string checkpoint = CheckpointOf(adapterDirectory);
        string labelsPath = Path.Combine(checkpoint, HeadLabelsFile);
        if (!File.Exists(Path.Combine(checkpoint, HeadFile)))
        {
            throw new MiguUserException($"{adapterDirectory}: an encoder needs the classification head trained with these adapters, and {Path.Combine(checkpoint, HeadFile)} does not exist; give an adapter folder inside a run checkpoint (checkpoints/task-NN-name/adapters/NAME)");
        }

        if (!File.Exists(labelsPath))
        {
            throw new MiguUserException($"{checkpoint}: {HeadFile} without {HeadLabelsFile} (a checkpoint written before the labels were saved): the head's rows cannot be named; rerun the task, or score a full fine-tuning checkpoint");
        }

        try
        {
            string[] labels = JsonNode.Parse(File.ReadAllText(labelsPath)) is JsonArray array
                ? [.. array.Select(l => l is JsonValue v && v.TryGetValue(out string? s) && s.Length > 0 ? s : throw new JsonException("an entry is not a label string"))]
                : [];
            return labels.Length > 0 ? (checkpoint, labels) : throw new JsonException("no labels");
        }
        catch (JsonException e)
        {
            throw new MiguUserException($"{labelsPath}: not a JSON array of label strings ({e.Message})");
        }
    }

    /// <summary>Whether the run checkpoint that holds <paramref name="adapterDirectory"/> kept a classifier head beside it.</summary>
    public static bool HasHeadBeside(string adapterDirectory) => File.Exists(Path.Combine(CheckpointOf(adapterDirectory), HeadFile));

    private static string CheckpointOf(string adapterDirectory)
    {
        ArgumentNullException.ThrowIfNull(adapterDirectory);
        string full = Path.GetFullPath(adapterDirectory).TrimEnd(Path.DirectorySeparatorChar);
        return Path.GetDirectoryName(Path.GetDirectoryName(full)) ?? full;
    }

    /// <summary>Loads a checkpoint's head.safetensors into <paramref name="model"/>'s head (each name and shape checked).</summary>
    public static void LoadHead(LanguageModel model, string directory) => LoadHead(HeadParameters(model), directory);

    public void LoadCheckpoint(string directory)
    {
        LoadHead(head, directory);
        string root = Path.Combine(directory, AdaptersFolder);
        // Task order (task1, task2, …, not text order), so each loaded adapter freezes the one before.
        var saved = Directory.Exists(root)
            ? Directory.GetDirectories(root).Select(Path.GetFileName).OfType<string>().OrderBy(n => n.Length).ThenBy(n => n, StringComparer.Ordinal).ToList()
            : [];
        foreach (string name in saved)
        {
            string path = Path.Combine(root, name);
            if (Lora.AdapterNames.Contains(name))
            {
                PeftAdapterFiles.LoadWeights(Lora, path, name);
            }
            else
            {
                PeftAdapterFiles.Load(Lora, path, name);
            }
        }
    }

    /// <summary>The head's weights from a checkpoint's head.safetensors (each name and shape checked), when the model has a head.</summary>
    private static void LoadHead(IReadOnlyList<(string Name, Parameter Parameter)> head, string directory)
    {
        if (head.Count == 0)
        {
            return;
        }

        string path = Path.Combine(directory, HeadFile);
        if (!File.Exists(path))
        {
            throw new MiguUserException($"{directory}: no {HeadFile}; the classifier's head was not saved with its adapters");
        }

        Dictionary<string, Tensor> saved = StateDictFiles.LoadSafeTensorsFile(path);
        try
        {
            using var noGrad = no_grad();
            foreach (var (name, p) in head)
            {
                Tensor value = saved.GetValueOrDefault(name) ?? throw new MiguUserException($"{path}: no tensor '{name}'");
                if (!value.shape.SequenceEqual(p.shape))
                {
                    throw new MiguUserException($"{path}: '{name}' has shape [{string.Join(", ", value.shape)}], the model's is [{string.Join(", ", p.shape)}]");
                }

                p.copy_(value);
            }
        }
        finally
        {
            foreach (Tensor t in saved.Values)
            {
                t.Dispose();
            }
        }
    }

    public void Dispose()
    {
        Dispose(true);
        GC.SuppressFinalize(this);
    }

    protected virtual void Dispose(bool disposing)
    {
        if (disposing)
        {
            Lora.Dispose();
        }
    }
}
