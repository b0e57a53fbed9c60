using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Checkpoints;

/// <summary>Loads weights into a model and saves a model in the Hugging Face layout (config.json + model.safetensors).</summary>
public static class ModelCheckpoint
{
    public const string ConfigFile = "config.json";

    /// <summary>Whether <paramref name="path"/> is a Hugging Face checkpoint directory (it holds config.json); otherwise it may name a preset.</summary>
    public static bool IsCheckpointDirectory(string path) => File.Exists(Path.Combine(path, ConfigFile));

    /// <summary>Copies the weights in <paramref name="directory"/> into <paramref name="model"/>, honouring its aliases.</summary>
    public static void LoadWeights(LanguageModel model, string directory)
    {
        Dictionary<string, Tensor> state = StateDictFiles.Load(directory);
        try
        {
            StateDictBinder.Load(model, state, directory, model.CheckpointAliases, model.IsIgnorableCheckpointKey);
        }
        finally
        {
            foreach (Tensor t in state.Values)
            {
                t.Dispose();
            }
        }
    }

    /// <summary>
    /// Builds the model <paramref name="build"/> makes on <paramref name="device"/> and loads the
    /// checkpoint in <paramref name="directory"/> into it (then <paramref name="then"/>, family extras),
    /// but only after <see cref="CheckBeforeBuilding"/> found that the config's sizes fit the checkpoint:
    /// an absurd config is refused before anything of its size is allocated.
    /// </summary>
    public static T Load<T>(string directory, ConfigSizes sizes, Func<Device?, T> build, Device? device, Action<T>? then = null)
        where T : LanguageModel
    {
        ArgumentNullException.ThrowIfNull(build);
        CheckBeforeBuilding(directory, sizes, build);
        return LoadInto(build(device), directory, then);
    }

    /// <summary>
    /// Validates the checkpoint's headers and index, checks <paramref name="sizes"/> against its tensor
    /// shapes, then builds the model on the meta device (which allocates nothing) and checks it against
    /// the checkpoint: for safetensors every key and shape, as loading would; for pickled weights, that
    /// the model has no more parameter elements than the files have bytes.
    /// </summary>
    public static void CheckBeforeBuilding<T>(string directory, ConfigSizes sizes, Func<Device?, T> build)
        where T : LanguageModel
    {
        ArgumentNullException.ThrowIfNull(sizes);
        ArgumentNullException.ThrowIfNull(build);
        CheckpointShapes checkpoint = StateDictFiles.Inspect(directory);
        sizes.CheckAgainst(checkpoint);
        using T meta = BuildOnMeta(build);
        CheckFits(meta, checkpoint, sizes.Source, meta.CheckpointAliases, meta.IsIgnorableCheckpointKey);
    }

    /// <summary>
    /// Builds a model on the meta device (shapes only) without moving the global random generator:
    /// initialisers draw from it even there, and a check must not change the weights of the model
    /// built after it (a classifier's new head).
    /// </summary>
    internal static T BuildOnMeta<T>(Func<Device?, T> build)
        where T : nn.Module
    {
        ArgumentNullException.ThrowIfNull(build);
        using Tensor state = torch.random.get_rng_state();
        try
        {
            return build(new Device(DeviceType.META));
        }
        finally
        {
            torch.random.set_rng_state(state);
        }
    }

    /// <summary>
    /// <paramref name="meta"/> (a module on the meta device) against the checkpoint's shapes, whose keys
    /// are first stripped of <paramref name="keyPrefix"/> (keys without it are left out).
    /// </summary>
    internal static void CheckFits(
        nn.Module meta,
        CheckpointShapes checkpoint,
        string configSource,
        IReadOnlyDictionary<string, string[]>? aliases = null,
        Func<string, bool>? ignorable = null,
        string keyPrefix = "")
    {
        if (checkpoint.Shapes is { } shapes)
        {
            var view = keyPrefix.Length == 0
                ? shapes
                : shapes.Where(kv => kv.Key.StartsWith(keyPrefix, StringComparison.Ordinal))
                    .ToDictionary(kv => kv.Key[keyPrefix.Length..], kv => kv.Value, StringComparer.Ordinal);
            StateDictBinder.Check(meta, view, checkpoint.Source, aliases, ignorable);
            return;
        }

        long needed = StateDictBinder.Targets(meta).Sum(t => t.Tensor.numel());
        if (needed > checkpoint.ElementBound)
        {
            throw new CheckpointException(
                $"{configSource}: describes a model of {needed} parameter elements but {checkpoint.Source} has only {checkpoint.ElementBound} bytes");
        }
    }

    /// <summary>
    /// Loads the weights in <paramref name="directory"/> into a freshly built <paramref name="model"/>,
    /// runs <paramref name="then"/> (family extras), and returns the model in eval mode; on any
    /// failure the model is disposed before the exception leaves.
    /// </summary>
    public static T LoadInto<T>(T model, string directory, Action<T>? then = null)
        where T : LanguageModel
    {
        try
        {
            LoadWeights(model, directory);
            then?.Invoke(model);
        }
        catch
        {
            model.Dispose();
            throw;
        }

        model.eval();
        return model;
    }

    /// <summary>
    /// Writes config.json and model.safetensors into <paramref name="directory"/>, each atomically.
    /// Keys the model declares as tied copies are written once, as transformers' save_pretrained does.
    /// </summary>
    public static void Save(LanguageModel model, string directory)
    {
        Directory.CreateDirectory(directory);
        var state = new Dictionary<string, Tensor>(StringComparer.Ordinal);
        foreach (var (name, t) in StateDictBinder.Targets(model))
        {
            if (!model.IsTiedCopy(name))
            {
                state[name] = t;
            }
        }

        StateDictFiles.Save(directory, state);
        string config = Path.Combine(directory, ConfigFile);
        File.WriteAllText(config + ".tmp", model.ConfigJson);
        File.Move(config + ".tmp", config, overwrite: true);
    }
}
