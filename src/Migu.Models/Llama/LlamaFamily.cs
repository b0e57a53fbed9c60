using Migu.Models.Checkpoints;
using Migu.Models.Tokenizers;
using static TorchSharp.torch;

namespace Migu.Models.Llama;

/// <summary>Llama: a decoder-only model (BOS + prompt, then the answer); causal LM; documents framed BOS … EOS.</summary>
public sealed class LlamaFamily : ModelFamily
{
    private LlamaFamily()
    {
    }

    public static LlamaFamily Instance { get; } = new();

    public override string Name => "Llama";

    public override IReadOnlyList<string> ModelTypes { get; } = ["llama"];

    public override ModelArchitecture Architecture => ModelArchitecture.DecoderOnly;

    public override IReadOnlyCollection<string> PresetNames { get; } = [.. LlamaPresets.All.Keys];

    public override PretrainObjective Objective => PretrainObjective.Causal;

    public override LanguageModel FromPretrained(string directory, ConfigReader config, Device? device) => LlamaForCausalLM.FromPretrained(directory, device);

    public override LanguageModel FromPreset(string name, Device? device) => new LlamaForCausalLM(Preset(LlamaPresets.All, name), device);

    public override LanguageModel FromPreset(string name, ITextTokenizer tokenizer, Device? device)
    {
        var (eos, pad) = EndAndPad(tokenizer);
        LlamaConfig config = Preset(LlamaPresets.All, name) with { VocabSize = VocabularyFor(tokenizer), BosTokenId = tokenizer.BosTokenId, EosTokenIds = [eos], PadTokenId = pad };
        return new LlamaForCausalLM(config, device);
    }
}
