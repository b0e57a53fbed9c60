using Migu.Core;
using Migu.Models.Checkpoints;
using static TorchSharp.torch;

namespace Migu.Models;

/// <summary>
/// Builds a model from a Hugging Face checkpoint directory (config.json's <c>model_type</c> and
/// <c>architectures</c> pick the class) or from a preset name (random initialisation).
/// </summary>
public static class ModelLoader
{
    /// <summary>A directory with config.json, a hub id in the local cache (<see cref="HubCache"/>), or a preset name such as <c>llama-tiny</c>.</summary>
    public static LanguageModel Load(string directoryOrPreset, Device? device = null)
    {
        directoryOrPreset = HubCache.Resolve(directoryOrPreset);
        string config = Path.Combine(directoryOrPreset, ModelCheckpoint.ConfigFile);
        if (File.Exists(config))
        {
            ConfigReader reader = ConfigReader.FromFile(config);
            return ModelFamilies.LoadPretrained(directoryOrPreset, reader, device); // in eval mode
        }

        if (ModelFamilies.TryCreatePreset(directoryOrPreset, device, out LanguageModel? preset))
        {
            return preset!;
        }

        if (Directory.Exists(directoryOrPreset))
        {
            throw new CheckpointException($"{directoryOrPreset}: no config.json here; is this a Hugging Face checkpoint directory?");
        }

        throw new MiguUserException(
            $"'{directoryOrPreset}' is neither a checkpoint directory nor a preset (presets: {string.Join(", ", ModelFamilies.PresetNames)})");
    }
}
