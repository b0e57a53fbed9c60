using Migu.Models.Bert;
using Migu.Models.Checkpoints;
using Migu.Models.Llama;
using Migu.Models.Roberta;
using Migu.Models.T5;
using static TorchSharp.torch;

namespace Migu.Models;

/// <summary>The model_type → class table and the preset table of every family.</summary>
internal static class ModelFamilies
{
    private static readonly string[] Supported = ["t5", "mt5", "roberta", "llama", "bert"];

    /// <summary>Every preset name, in family order.</summary>
    public static IEnumerable<string> PresetNames => T5Presets.All.Keys.Concat(RobertaPresets.All.Keys).Concat(LlamaPresets.All.Keys).Concat(BertPresets.All.Keys);

    /// <summary>The model of the class config.json names, with the directory's weights (and family extras such as generation_config.json).</summary>
    public static LanguageModel LoadPretrained(string directory, ConfigReader config, Device? device)
    {
        string type = config.String("model_type")
            ?? throw new CheckpointException($"{config.Source}: missing 'model_type'");
        return type switch
        {
            "roberta" => RobertaConfig.FromConfig(config).Architecture == "RobertaForSequenceClassification"
                ? RobertaForSequenceClassification.FromPretrained(directory, device)
                : RobertaForMaskedLM.FromPretrained(directory, device),
            "llama" => LlamaForCausalLM.FromPretrained(directory, device),
            BertConfig.ModelType => BertLoading.FromPretrained(directory, config, device),
            "t5" or "mt5" => T5ForConditionalGeneration.FromPretrained(directory, device),
            _ => throw new CheckpointException($"{config.Source}: model_type '{type}' is not supported (supported: {string.Join(", ", Supported)})"),
        };
    }

    /// <summary>A randomly initialised model of a named preset.</summary>
    public static bool TryCreatePreset(string name, Device? device, out LanguageModel? model)
    {
        if (T5Presets.All.TryGetValue(name, out T5Config? t5))
        {
            model = new T5ForConditionalGeneration(t5, device);
        }
        else if (RobertaPresets.All.TryGetValue(name, out RobertaConfig? roberta))
        {
            model = CreateRoberta(roberta, device);
        }
        else if (LlamaPresets.All.TryGetValue(name, out LlamaConfig? llama))
        {
            model = new LlamaForCausalLM(llama, device);
        }
        else if (BertPresets.All.TryGetValue(name, out BertConfig? bert))
        {
            model = BertLoading.Create(bert, device);
        }
        else
        {
            model = null;
        }

        return model is not null;
    }

    private static LanguageModel CreateRoberta(RobertaConfig config, Device? device) =>
        config.Architecture == "RobertaForSequenceClassification"
            ? new RobertaForSequenceClassification(config, device)
            : new RobertaForMaskedLM(config, device);
}
