using System.Text.Json;
using Migu.Core;
using Migu.Models;
using Migu.Models.Checkpoints;
using Migu.Models.Llama;
using Migu.Models.Roberta;
using Migu.Models.T5;
using Migu.Models.Tokenizers;
using static TorchSharp.torch;

namespace Migu.Continual.Pretraining;

/// <summary>
/// The model a pre-training run trains: a checkpoint to continue (RoBERTa's masked-LM head, T5,
/// Llama), or a preset of any family built with random weights (seeded by the caller) around the
/// run's tokenizer — its vocabulary size (rounded up to a multiple of 64) and special ids follow
/// the tokenizer, as for fine-tuning presets.
/// </summary>
public static class PretrainingModel
{
    /// <summary>Every preset a pre-training run can build.</summary>
    public static IEnumerable<string> Presets => RobertaPresets.All.Keys.Concat(T5Presets.All.Keys).Concat(LlamaPresets.All.Keys);

    /// <summary>Whether <paramref name="modelOrPreset"/> is a checkpoint directory (has config.json).</summary>
    public static bool IsCheckpoint(string modelOrPreset) => File.Exists(Path.Combine(modelOrPreset, ModelCheckpoint.ConfigFile));

    /// <summary>The family of a checkpoint (config.json's model_type) or preset.</summary>
    public static ModelFamily FamilyOf(string modelOrPreset)
    {
        if (IsCheckpoint(modelOrPreset))
        {
            string path = Path.Combine(modelOrPreset, ModelCheckpoint.ConfigFile);
            string? type;
            try
            {
                using JsonDocument doc = JsonDocument.Parse(File.ReadAllBytes(path));
                type = doc.RootElement.TryGetProperty("model_type", out JsonElement t) ? t.GetString() : null;
            }
            catch (JsonException e)
            {
                throw new MiguUserException($"{path}: not valid JSON ({e.Message.Split('\n')[0]})", e);
            }

            return type switch
            {
                "roberta" => ModelFamily.Roberta,
                "t5" or "mt5" => ModelFamily.T5,
                "llama" => ModelFamily.Llama,
                _ => throw new MiguUserException($"{path}: model_type '{type}' cannot be pre-trained (roberta, t5 or llama)"),
            };
        }

        if (RobertaPresets.All.ContainsKey(modelOrPreset))
        {
            return ModelFamily.Roberta;
        }

        if (T5Presets.All.ContainsKey(modelOrPreset))
        {
            return ModelFamily.T5;
        }

        if (LlamaPresets.All.ContainsKey(modelOrPreset))
        {
            return ModelFamily.Llama;
        }

        throw Directory.Exists(modelOrPreset)
            ? new MiguUserException($"{modelOrPreset}: no config.json here; is this a Hugging Face checkpoint directory?")
            : new MiguUserException($"'{modelOrPreset}' is neither a checkpoint directory nor a preset (presets: {string.Join(", ", Presets)})");
    }

    /// <summary>The objective <paramref name="requested"/> means for a model of <paramref name="family"/>; a mismatch is refused.</summary>
    public static PretrainObjective ResolveObjective(PretrainObjective requested, ModelFamily family, string model)
    {
        PretrainObjective own = family switch
        {
            ModelFamily.Roberta => PretrainObjective.Mlm,
            ModelFamily.T5 => PretrainObjective.Span,
            _ => PretrainObjective.Causal,
        };
        if (requested != PretrainObjective.Auto && requested != own)
        {
            throw new MiguUserException(
                $"objective {Name(requested)} does not fit {model}, a {FamilyName(family)} model; its objective is {Name(own)} (or use auto)");
        }

        return own;
    }

    /// <summary>
    /// The model on <paramref name="device"/> for sequences of <paramref name="seqLen"/> tokens:
    /// a checkpoint's weights (it must hold every id of <paramref name="tokenizer"/>), or a preset's shape.
    /// </summary>
    public static LanguageModel Create(string modelOrPreset, ITextTokenizer tokenizer, int seqLen, Device device)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        LanguageModel model = IsCheckpoint(modelOrPreset) ? LoadCheckpoint(modelOrPreset, device) : FromPreset(modelOrPreset, tokenizer, device);
        try
        {
            long vocabulary = VocabularyOf(model);
            if (tokenizer.VocabSize > vocabulary)
            {
                throw new MiguUserException(
                    $"{modelOrPreset}: the tokenizer has {tokenizer.VocabSize} ids but the model's vocabulary is {vocabulary}; the objective's special tokens may not fit it");
            }

            if (UsableLength(model) is long usable && seqLen > usable)
            {
                throw new MiguUserException($"{modelOrPreset}: seq_len {seqLen} is longer than the model's {usable} positions");
            }

            model.train();
            return model;
        }
        catch
        {
            model.Dispose();
            throw;
        }
    }

    /// <summary>The family as people write it.</summary>
    public static string FamilyName(ModelFamily family) => family switch
    {
        ModelFamily.Roberta => "RoBERTa",
        ModelFamily.T5 => "T5",
        _ => "Llama",
    };

    /// <summary>The objective's name as recipes and flags write it.</summary>
    public static string Name(PretrainObjective objective) => objective.ToString().ToLowerInvariant();

    private static LanguageModel LoadCheckpoint(string directory, Device device)
    {
        LanguageModel model = ModelLoader.Load(directory, device);
        if (model is RobertaForSequenceClassification)
        {
            model.Dispose();
            throw new MiguUserException($"{directory}: a RoBERTa classifier; continual pre-training needs a masked-LM checkpoint (RobertaForMaskedLM)");
        }

        return model;
    }

    private static LanguageModel FromPreset(string preset, ITextTokenizer tokenizer, Device device)
    {
        long vocab = (tokenizer.VocabSize + 63L) / 64 * 64; // a multiple of 64 keeps the head's matmul aligned
        long eos = tokenizer.EosTokenId ?? throw new MiguUserException("the tokenizer has no EOS token; pre-training frames documents with it");
        long pad = tokenizer.PadTokenId ?? eos;
        if (RobertaPresets.All.TryGetValue(preset, out RobertaConfig? roberta))
        {
            return new RobertaForMaskedLM(roberta with { VocabSize = vocab, PadTokenId = pad, BosTokenId = tokenizer.BosTokenId ?? eos, EosTokenId = eos }, device);
        }

        if (T5Presets.All.TryGetValue(preset, out T5Config? t5))
        {
            return new T5ForConditionalGeneration(t5 with { VocabSize = vocab, PadTokenId = pad, EosTokenId = eos, DecoderStartTokenId = pad }, device);
        }

        LlamaConfig llama = LlamaPresets.All[preset];
        return new LlamaForCausalLM(llama with { VocabSize = vocab, BosTokenId = tokenizer.BosTokenId, EosTokenIds = [eos], PadTokenId = pad }, device);
    }

    private static long VocabularyOf(LanguageModel model) => model switch
    {
        RobertaForMaskedLM r => r.Config.VocabSize,
        T5ForConditionalGeneration t => t.Config.VocabSize,
        LlamaForCausalLM l => l.Config.VocabSize,
        _ => long.MaxValue,
    };

    /// <summary>Tokens a sequence may have: RoBERTa's positions start after the pad id; T5's are relative (no limit).</summary>
    private static long? UsableLength(LanguageModel model) => model switch
    {
        RobertaForMaskedLM r => r.Config.MaxPositionEmbeddings - r.Config.PadTokenId - 1,
        LlamaForCausalLM l => l.Config.MaxPositionEmbeddings,
        _ => null,
    };
}
