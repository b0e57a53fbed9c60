using Migu.Core;
using Migu.Core.IO;
using Migu.Core.Lora;
using Migu.Models.Checkpoints;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Adapters;

/// <summary>
/// One LoRA adapter as PEFT saves it: <c>adapter_config.json</c> and <c>adapter_model.safetensors</c>
/// with keys <c>base_model.model.{module}.lora_A.weight</c> (r × d_in) and <c>….lora_B.weight</c>
/// (d_out × r); PEFT leaves the adapter's name out of the keys, so the name is chosen on loading.
/// Such a directory loads in PEFT with <c>PeftModel.from_pretrained(base_model, directory)</c>.
/// </summary>
public static class PeftAdapterFiles
{
    public const string ConfigFile = "adapter_config.json";
    public const string WeightsFile = "adapter_model.safetensors";
    private const string KeyPrefix = "base_model.model.";

    /// <summary>
    /// Writes adapter <paramref name="adapter"/> of <paramref name="lora"/> into <paramref name="directory"/>
    /// (weights, then config, each atomically). <paramref name="baseModelNameOrPath"/> is recorded as
    /// PEFT's base_model_name_or_path.
    /// </summary>
    public static void Save(LoraAdapters lora, string adapter, string directory, string? baseModelNameOrPath = null)
    {
        var weights = lora.Weights(adapter);
        if (weights.Any(w => w.Module.Length == 0))
        {
            throw new MiguUserException("PEFT adapter files need module names; LoRA on a bare projection cannot be saved in PEFT's layout");
        }

        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (module, a, b) in weights)
        {
            state[Key(module, "lora_A")] = a;
            state[Key(module, "lora_B")] = b;
        }

        LoraAdapterConfig settings = lora.Config(adapter);
        var allModules = lora.Model.named_modules().Select(m => m.name).ToList();
        var config = new PeftLoraConfig
        {
            Rank = settings.Rank,
            Alpha = settings.Alpha,
            Dropout = settings.Dropout,
            UseRsLora = settings.UseRsLora,
            TargetModules = PeftTargetModules.Describe(weights.Select(w => w.Module).ToList(), allModules),
            TaskType = TaskTypeOf(lora.Model),
            BaseModelNameOrPath = baseModelNameOrPath,
        };
        Directory.CreateDirectory(directory);
        StateDictFiles.SaveSafeTensorsFile(Path.Combine(directory, WeightsFile), state);
        AtomicFile.WriteAllText(Path.Combine(directory, ConfigFile), config.ToJson());
    }

    /// <summary>
    /// Attaches LoRA to the modules the adapter in <paramref name="directory"/> names and loads it as
    /// adapter <paramref name="adapter"/> (active and trainable). Everything is checked before the
    /// model is touched; on any error the model is left as it was.
    /// </summary>
    public static LoraAdapters Attach(LanguageModel model, string directory, string adapter = "default", bool freezeModel = true)
    {
        var (config, modules, state) = Read(model, directory);
        try
        {
            var options = new LoraOptions { FreezeModel = freezeModel, Adapter = config.ToAdapterConfig() };
            LoraAdapters lora = LoraAdapters.Attach(model, LayerSelection.Named(modules), options);
            try
            {
                var frozen = modules.Except(lora.Layers.Select(l => l.ModuleName)).ToList();
                if (frozen.Count > 0)
                {
                    throw new MiguUserException($"{directory}: the adapter needs LoRA on frozen projections {StateDictBinder.Listed(frozen)}; unfreeze them first");
                }

                lora.AddAdapter(adapter, seed: 0);
                Bind(lora, adapter, state);
                return lora;
            }
            catch
            {
                lora.Dispose();
                throw;
            }
        }
        finally
        {
            DisposeAll(state);
        }
    }

    /// <summary>
    /// Loads the adapter in <paramref name="directory"/> into an existing attachment as adapter
    /// <paramref name="adapter"/> (it becomes active and trainable, as <see cref="LoraAdapters.AddAdapter(string, long, LoraAdapterConfig?)"/>
    /// makes it). The adapter must cover exactly the attached modules. Checked before anything changes.
    /// </summary>
    public static void Load(LoraAdapters lora, string directory, string adapter)
    {
        var (config, modules, state) = Read(lora.Model, directory);
        try
        {
            var attached = lora.Layers.Select(l => l.ModuleName).ToList();
            var notAttached = modules.Except(attached).ToList();
            var notCovered = attached.Except(modules).ToList();
            if (notAttached.Count > 0 || notCovered.Count > 0)
            {
                throw new CheckpointException(
                    $"{directory}: the adapter's modules differ from those LoRA is attached to"
                    + (notAttached.Count > 0 ? $"; not attached: {StateDictBinder.Listed(notAttached)}" : string.Empty)
                    + (notCovered.Count > 0 ? $"; not in the adapter: {StateDictBinder.Listed(notCovered)}" : string.Empty));
            }

            lora.AddAdapter(adapter, seed: 0, config.ToAdapterConfig());
            Bind(lora, adapter, state);
        }
        finally
        {
            DisposeAll(state);
        }
    }

    /// <summary>
    /// Copies the weights in <paramref name="directory"/> into the existing adapter
    /// <paramref name="adapter"/> (same modules and rank), leaving its parameters the same objects,
    /// so an optimizer built on them keeps working (a resumed run).
    /// </summary>
    public static void LoadWeights(LoraAdapters lora, string directory, string adapter)
    {
        var (config, modules, state) = Read(lora.Model, directory);
        try
        {
            if (config.Rank != lora.Config(adapter).Rank || !modules.SequenceEqual(lora.Weights(adapter).Select(w => w.Module)))
            {
                throw new CheckpointException($"{directory}: the saved adapter does not have the modules and rank of adapter '{adapter}'");
            }

            Bind(lora, adapter, state);
        }
        finally
        {
            DisposeAll(state);
        }
    }

    /// <summary>PEFT's task type for a model: what PeftModel.from_pretrained wraps it as.</summary>
    public static string? TaskTypeOf(nn.Module model) => model switch
    {
        LanguageModel { IsClassifier: true } => "SEQ_CLS",
        LanguageModel { Family.Architecture: ModelArchitecture.EncoderDecoder } => "SEQ_2_SEQ_LM",
        LanguageModel { Family.Architecture: ModelArchitecture.DecoderOnly } => "CAUSAL_LM",
        _ => null, // an encoder's masked LM: PEFT has no task type for it; a plain PeftModel loads it
    };

    /// <summary>The config, the targeted modules in model order, and the weights, all checked against <paramref name="model"/>.</summary>
    private static (PeftLoraConfig Config, List<string> Modules, Dictionary<string, Tensor> State) Read(nn.Module model, string directory)
    {
        PeftLoraConfig config = PeftLoraConfig.Read(Path.Combine(directory, ConfigFile));
        var projections = new List<(string Name, Projection Projection)>();
        foreach (var (name, module) in model.named_modules())
        {
            if (config.TargetModules.Matches(name))
            {
                projections.Add(module is Projection p
                    ? (name, p)
                    : throw new CheckpointException($"{directory}: target_modules {config.TargetModules} select '{name}', which is not a linear layer ({module.GetName()})"));
            }
        }

        if (projections.Count == 0)
        {
            throw new CheckpointException($"{directory}: target_modules {config.TargetModules} select no module of this model (is the adapter for another model?)");
        }

        string weightsPath = Path.Combine(directory, WeightsFile);
        if (!File.Exists(weightsPath))
        {
            throw new CheckpointException(File.Exists(Path.Combine(directory, "adapter_model.bin"))
                ? $"{directory}: only {WeightsFile} is read; adapter_model.bin (pickle) is not supported"
                : $"{weightsPath}: not found");
        }

        Dictionary<string, Tensor> state = StateDictFiles.LoadSafeTensorsFile(weightsPath);
        try
        {
            CheckKeys(state, projections, config.Rank, weightsPath);
        }
        catch
        {
            DisposeAll(state);
            throw;
        }

        return (config, projections.Select(p => p.Name).ToList(), state);
    }

    private static void CheckKeys(Dictionary<string, Tensor> state, List<(string Name, Projection Projection)> projections, int rank, string source)
    {
        var expected = new Dictionary<string, long[]>(StringComparer.Ordinal);
        foreach (var (name, p) in projections)
        {
            expected[Key(name, "lora_A")] = [rank, p.InFeatures];
            expected[Key(name, "lora_B")] = [p.OutFeatures, rank];
        }

        var missing = expected.Keys.Where(k => !state.ContainsKey(k)).ToList();
        if (missing.Count > 0)
        {
            throw new CheckpointException($"{source}: missing key{(missing.Count > 1 ? "s" : "")} {StateDictBinder.Listed(missing)}");
        }

        var unexpected = state.Keys.Where(k => !expected.ContainsKey(k)).Order(StringComparer.Ordinal).ToList();
        if (unexpected.Count > 0)
        {
            throw new CheckpointException(
                $"{source}: unexpected key{(unexpected.Count > 1 ? "s" : "")} {StateDictBinder.Listed(unexpected)} (not a plain LoRA adapter of these modules)");
        }

        foreach (var (key, shape) in expected)
        {
            if (!state[key].shape.SequenceEqual(shape))
            {
                throw new CheckpointException(
                    $"{source}: '{key}' has shape [{string.Join(", ", state[key].shape)}] but r = {rank} and the layer need [{string.Join(", ", shape)}]");
            }
        }
    }

    private static void Bind(LoraAdapters lora, string adapter, Dictionary<string, Tensor> state)
    {
        using var noGrad = no_grad();
        foreach (var (module, a, b) in lora.Weights(adapter))
        {
            a.copy_(state[Key(module, "lora_A")]);
            b.copy_(state[Key(module, "lora_B")]);
        }
    }

    private static string Key(string module, string factor) => $"{KeyPrefix}{module}.{factor}.weight";

    private static void DisposeAll(Dictionary<string, Tensor> state)
    {
        foreach (Tensor t in state.Values)
        {
            t.Dispose();
        }
    }
}
