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
