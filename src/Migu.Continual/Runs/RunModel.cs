using Migu.Continual.Recipes;
using Migu.Core;
using Migu.Models;
using Migu.Models.Checkpoints;
using Migu.Models.Llama;
using Migu.Models.T5;
using Migu.Models.Tokenizers;
using static TorchSharp.torch;

namespace Migu.Continual.Runs;

/// <summary>
/// The model and tokenizer a recipe names. A checkpoint directory brings its weights and its own
/// tokenizer files; a preset is built with random weights (seeded by the caller) around the
/// embedded compact tokenizer (or a given one): its vocabulary size and special ids follow the tokenizer.
/// </summary>
public static class RunModel
{
    /// <summary>Presets a continual run can train (generative families only).</summary>
    public static IEnumerable<string> Presets => T5Presets.All.Keys.Concat(LlamaPresets.All.Keys);

    public static (LanguageModel Model, ITextTokenizer Tokenizer) Create(string modelOrPreset, string? tokenizerDirectory, Device device)
    {
        modelOrPreset = HubCache.Resolve(modelOrPreset); // the checkpoint's directory is also the tokenizer's default
        bool isCheckpoint = File.Exists(Path.Combine(modelOrPreset, ModelCheckpoint.ConfigFile));
        if (isCheckpoint)
        {
            ITextTokenizer tokenizer = TokenizerLoader.Load(tokenizerDirectory ?? modelOrPreset);
            LanguageModel model = ModelLoader.Load(modelOrPreset, device);
            if (tokenizer.VocabSize > VocabularyOf(model))
            {
                model.Dispose();
                throw new MiguUserException(
                    $"{modelOrPreset}: the tokenizer has {tokenizer.VocabSize} ids but the model's vocabulary is {VocabularyOf(model)}; they do not belong together");
            }

            return (model, tokenizer);
        }

        ITextTokenizer tok = tokenizerDirectory is null ? EmbeddedTokenizer.Compact() : TokenizerLoader.Load(tokenizerDirectory);
        long vocab = RoundUp(tok.VocabSize, 64); // a multiple of 64 keeps the head's matmul aligned
        long eos = tok.EosTokenId ?? throw new MiguUserException("the tokenizer has no EOS token; a generative model needs one");
        long pad = tok.PadTokenId ?? eos;
        if (T5Presets.All.TryGetValue(modelOrPreset, out T5Config? t5))
        {
            return (new T5ForConditionalGeneration(t5 with { VocabSize = vocab, PadTokenId = pad, EosTokenId = eos, DecoderStartTokenId = pad }, device), tok);
        }

        if (LlamaPresets.All.TryGetValue(modelOrPreset, out LlamaConfig? llama))
        {
            var config = llama with { VocabSize = vocab, BosTokenId = tok.BosTokenId, EosTokenIds = [eos], PadTokenId = pad };
            return (new LlamaForCausalLM(config, device), tok);
        }

        if (Directory.Exists(modelOrPreset))
        {
            throw new MiguUserException($"{modelOrPreset}: no config.json here; is this a Hugging Face checkpoint directory?");
        }

        throw new MiguUserException(
            $"'{modelOrPreset}' is neither a checkpoint directory nor a preset of a generative model (presets: {string.Join(", ", Presets)})");
    }

    /// <summary>Llama's position limit, which caps prompt + answer; null for T5 (relative positions).</summary>
    public static long? MaxPositions(LanguageModel model) => model is LlamaForCausalLM l ? l.Config.MaxPositionEmbeddings : null;

    private static long VocabularyOf(LanguageModel model) => model switch
    {
        T5ForConditionalGeneration t => t.Config.VocabSize,
        LlamaForCausalLM l => l.Config.VocabSize,
        _ => long.MaxValue,
    };

    private static long RoundUp(long n, long multiple) => (n + multiple - 1) / multiple * multiple;
}
