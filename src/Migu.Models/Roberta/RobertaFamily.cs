using Migu.Models.Checkpoints;
using Migu.Models.Tokenizers;
using static TorchSharp.torch;

namespace Migu.Models.Roberta;

/// <summary>
/// RoBERTa: an encoder (masked LM, or a classification head over labels), which does not generate;
/// masked LM; documents framed &lt;s&gt; … &lt;/s&gt;. config.json's <c>architectures</c> picks the head.
/// </summary>
public sealed class RobertaFamily : ModelFamily
{
    private RobertaFamily()
    {
    }

    public static RobertaFamily Instance { get; } = new();

    public override string Name => "RoBERTa";

    public override IReadOnlyList<string> ModelTypes { get; } = ["roberta"];

    public override ModelArchitecture Architecture => ModelArchitecture.EncoderOnly;

    public override IReadOnlyCollection<string> PresetNames { get; } = [.. RobertaPresets.All.Keys];

    public override PretrainObjective Objective => PretrainObjective.Mlm;

    public override bool HasClassificationHead => true;

    public override LanguageModel FromPretrained(string directory, ConfigReader config, Device? device) =>
        RobertaConfig.FromConfig(config).Architecture == RobertaForSequenceClassification.ArchitectureName
            ? RobertaForSequenceClassification.FromPretrained(directory, device)
            : RobertaForMaskedLM.FromPretrained(directory, device);

    public override LanguageModel FromPreset(string name, Device? device)
    {
        RobertaConfig config = Preset(RobertaPresets.All, name);
        return config.Architecture == RobertaForSequenceClassification.ArchitectureName
            ? new RobertaForSequenceClassification(config, device)
            : new RobertaForMaskedLM(config, device);
    }

    /// <summary>A masked LM (what an encoder preset is trained from scratch as) with the tokenizer's vocabulary and special ids.</summary>
    public override LanguageModel FromPreset(string name, ITextTokenizer tokenizer, Device? device)
    {
        var (eos, pad) = EndAndPad(tokenizer);
        RobertaConfig config = Preset(RobertaPresets.All, name) with { VocabSize = VocabularyFor(tokenizer), PadTokenId = pad, BosTokenId = tokenizer.BosTokenId ?? eos, EosTokenId = eos };
        return new RobertaForMaskedLM(config, device);
    }

    public override LanguageModel ClassifierFromEncoder(string directory, IReadOnlyList<string> labels, Device? device) =>
        RobertaForSequenceClassification.FromEncoder(directory, labels, device);

    public override LanguageModel ClassifierFromPreset(string name, ITextTokenizer tokenizer, IReadOnlyList<string> labels, Device? device)
    {
        ArgumentNullException.ThrowIfNull(labels);
        var (eos, pad) = EndAndPad(tokenizer);
        RobertaConfig config = Preset(RobertaPresets.All, name) with
        {
            VocabSize = VocabularyFor(tokenizer),
            PadTokenId = pad,
            BosTokenId = tokenizer.BosTokenId ?? eos,
            EosTokenId = eos,
            NumLabels = labels.Count,
            Id2Label = [.. labels],
            Architecture = RobertaForSequenceClassification.ArchitectureName,
        };
        return new RobertaForSequenceClassification(config, device);
    }
}
