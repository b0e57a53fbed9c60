using Migu.Models.Checkpoints;
using Migu.Models.Roberta;
using static TorchSharp.torch;

namespace Migu.Models;

/// <summary>The model_type → class table and the preset table of every family.</summary>
internal static class ModelFamilies
{
    private static readonly string[] Supported = ["roberta"];

    /// <summary>Every preset name, in family order.</summary>
    public static IEnumerable<string> PresetNames => RobertaPresets.All.Keys;

    /// <summary>An untrained model of the class config.json names (weights are loaded by the caller).</summary>
    public static LanguageModel Create(ConfigReader config, Device? device)
    {
        string type = config.String("model_type")
            ?? throw new CheckpointException($"{config.Source}: missing 'model_type'");
        return type switch
        {
            "roberta" => CreateRoberta(RobertaConfig.FromConfig(config), device),
            _ => throw new CheckpointException($"{config.Source}: model_type '{type}' is not supported (supported: {string.Join(", ", Supported)})"),
        };
    }

    /// <summary>A randomly initialised model of a named preset.</summary>
    public static bool TryCreatePreset(string name, Device? device, out LanguageModel? model)
    {
        model = RobertaPresets.All.TryGetValue(name, out RobertaConfig? roberta) ? CreateRoberta(roberta, device) : null;
        return model is not null;
    }

    private static LanguageModel CreateRoberta(RobertaConfig config, Device? device) =>
        config.Architecture == "RobertaForSequenceClassification"
            ? new RobertaForSequenceClassification(config, device)
            : new RobertaForMaskedLM(config, device);
}
