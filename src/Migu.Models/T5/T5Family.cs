using Migu.Models.Checkpoints;
using Migu.Models.Tokenizers;
using static TorchSharp.torch;

namespace Migu.Models.T5;

/// <summary>T5 (and mT5): an encoder–decoder that answers by generation; span corruption; documents framed … &lt;/s&gt;.</summary>
public sealed class T5Family : ModelFamily
{
    private T5Family()
    {
    }

    public static T5Family Instance { get; } = new();

    public override string Name => "T5";

    public override IReadOnlyList<string> ModelTypes { get; } = ["t5", "mt5"];

    public override ModelArchitecture Architecture => ModelArchitecture.EncoderDecoder;

    public override IReadOnlyCollection<string> PresetNames { get; } = [.. T5Presets.All.Keys];

    public override PretrainObjective Objective => PretrainObjective.Span;

    public override LanguageModel FromPretrained(string directory, ConfigReader config, Device? device) => T5ForConditionalGeneration.FromPretrained(directory, device);

    public override LanguageModel FromPreset(string name, Device? device) => new T5ForConditionalGeneration(Preset(T5Presets.All, name), device);

    public override LanguageModel FromPreset(string name, ITextTokenizer tokenizer, Device? device)
    {
        var (eos, pad) = EndAndPad(tokenizer);
        T5Config config = Preset(T5Presets.All, name) with { VocabSize = VocabularyFor(tokenizer), PadTokenId = pad, EosTokenId = eos, DecoderStartTokenId = pad };
        return new T5ForConditionalGeneration(config, device);
    }

    /// <summary>T5 reads text without a start token; a document ends with &lt;/s&gt;.</summary>
    public override TextFraming Framing(ITextTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        return new TextFraming(null, tokenizer.EosTokenId);
    }
}
