using Migu.Models.Checkpoints;
using static TorchSharp.torch;

namespace Migu.Models;

/// <summary>The model_type → class table and the preset table of every family.</summary>
internal static class ModelFamilies
{
    private static readonly string[] Supported = ["t5", "roberta", "llama"];

    public static IEnumerable<string> PresetNames => [];

    public static LanguageModel Create(ConfigReader config, Device? device)
    {
        string type = config.String("model_type")
            ?? throw new CheckpointException($"{config.Source}: missing 'model_type'");
        _ = device;
        throw new CheckpointException($"{config.Source}: model_type '{type}' is not supported (supported: {string.Join(", ", Supported)})");
    }

    public static bool TryCreatePreset(string name, Device? device, out LanguageModel? model)
    {
        _ = name;
        _ = device;
        model = null;
        return false;
    }
}
