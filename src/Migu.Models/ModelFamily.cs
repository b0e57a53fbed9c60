using System.Text.Json.Serialization;
using Migu.Core;
using Migu.Core.IO;
using Migu.Models.Bert;
using Migu.Models.Checkpoints;
using Migu.Models.Llama;
using Migu.Models.Roberta;
using Migu.Models.T5;
using Migu.Models.Tokenizers;
using static TorchSharp.torch;

namespace Migu.Models;

/// <summary>How a family reads and writes tokens.</summary>
public enum ModelArchitecture
{
    /// <summary>An encoder reads the input, a decoder writes the output (T5).</summary>
    EncoderDecoder,

    /// <summary>One causal stack reads the prompt and continues it (Llama).</summary>
    DecoderOnly,

    /// <summary>A bidirectional encoder: masked LM or a classification head, no generation (RoBERTa).</summary>
    EncoderOnly,
}

/// <summary>What a model learns from unlabeled text.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<PretrainObjective>))]
public enum PretrainObjective
{
    /// <summary>The family's own objective: masked LM for RoBERTa, span corruption for T5, causal LM for Llama.</summary>
    Auto,

    /// <summary>Masked language modelling (BERT/RoBERTa): 15% of tokens chosen per sequence, 80% masked, 10% random, 10% kept.</summary>
    Mlm,

    /// <summary>T5's span corruption: 15% of tokens in spans of mean length 3, each span replaced by a sentinel in the input and spelled out after it in the target.</summary>
    Span,

    /// <summary>Next-token prediction (decoder-only models).</summary>
    Causal,
}

/// <summary>
/// Everything the rest of the project asks about a model family, answered in one place: the
/// config.json model types it loads, its presets (as defined, or sized to a tokenizer), whether it
/// generates, whether it is an encoder with a classification head, its pre-training objective and
/// how it frames a document. Code outside Migu.Models asks these questions instead of testing
/// model classes. A new family is one descriptor beside its modules plus one line in
/// <see cref="ModelFamilies"/>.
/// </summary>
public abstract class ModelFamily
{
    /// <summary>The family as people write it (T5, RoBERTa, Llama).</summary>
    public abstract string Name { get; }

    /// <summary>config.json <c>model_type</c> values this family loads.</summary>
    public abstract IReadOnlyList<string> ModelTypes { get; }

    public abstract ModelArchitecture Architecture { get; }

    /// <summary>Preset names, in the family's order.</summary>
    public abstract IReadOnlyCollection<string> PresetNames { get; }

    /// <summary>The pre-training objective the family was designed with (never <see cref="PretrainObjective.Auto"/>).</summary>
    public abstract PretrainObjective Objective { get; }

    /// <summary>Whether the family writes text (greedy generation, label ranking): false for encoders.</summary>
    public bool Generates => Architecture != ModelArchitecture.EncoderOnly;

    /// <summary>Whether one causal stack reads prompt and answer as one sequence (left padding for generation, BOS first).</summary>
    public bool IsDecoderOnly => Architecture == ModelArchitecture.DecoderOnly;

    /// <summary>Whether the family is an encoder that classifies with a head over labels (<see cref="ClassifierFromEncoder"/>).</summary>
    public virtual bool HasClassificationHead => false;

    /// <summary>The model config.json describes, with the weights in <paramref name="directory"/> (eval mode).</summary>
    public abstract LanguageModel FromPretrained(string directory, ConfigReader config, Device? device);

    /// <summary>A randomly initialised model of preset <paramref name="name"/>, exactly as defined.</summary>
    public abstract LanguageModel FromPreset(string name, Device? device);

    /// <summary>
    /// A randomly initialised preset around <paramref name="tokenizer"/>: its vocabulary is the
    /// tokenizer's rounded up (<see cref="VocabularyFor"/>) and its special ids are the tokenizer's.
    /// </summary>
    public abstract LanguageModel FromPreset(string name, ITextTokenizer tokenizer, Device? device);

    /// <summary>A classifier over <paramref name="labels"/> on the encoder of the checkpoint in <paramref name="directory"/>, its head fresh.</summary>
    public virtual LanguageModel ClassifierFromEncoder(string directory, IReadOnlyList<string> labels, Device? device) =>
        throw new MiguUserException($"{directory}: a {Name} model has no classification head");

    /// <summary>
    /// A randomly initialised classifier over <paramref name="labels"/> of preset <paramref name="name"/>,
    /// sized to <paramref name="tokenizer"/> as <see cref="FromPreset(string, ITextTokenizer, Device?)"/> sizes a preset.
    /// </summary>
    public virtual LanguageModel ClassifierFromPreset(string name, ITextTokenizer tokenizer, IReadOnlyList<string> labels, Device? device) =>
        throw new MiguUserException($"'{name}': a {Name} model has no classification head");

    /// <summary>The ids put around each document before packing, as the family reads text: BOS … EOS unless it says otherwise.</summary>
    public virtual TextFraming Framing(ITextTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        return new TextFraming(tokenizer.BosTokenId, tokenizer.EosTokenId);
    }

    public override string ToString() => Name;

    /// <summary>A preset's vocabulary for <paramref name="tokenizer"/>: its size rounded up to a multiple of 64, which keeps the head's matmul aligned.</summary>
    protected static long VocabularyFor(ITextTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        return (tokenizer.VocabSize + 63L) / 64 * 64;
    }

    /// <summary>The tokenizer's EOS id (presets end every sequence with it) and its pad id (EOS when it has none).</summary>
    protected static (long Eos, long Pad) EndAndPad(ITextTokenizer tokenizer)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        long eos = tokenizer.EosTokenId ?? throw new MiguUserException("the tokenizer has no EOS token; a preset ends every sequence with it");
        return (eos, tokenizer.PadTokenId ?? eos);
    }

    /// <summary>The preset's config, or the error that lists the family's presets.</summary>
    protected static TConfig Preset<TConfig>(IReadOnlyDictionary<string, TConfig> presets, string name) =>
        presets.TryGetValue(name, out TConfig? config) ? config : throw new MiguUserException($"'{name}' is not a preset of this family (presets: {string.Join(", ", presets.Keys)})");
}

/// <summary>The registry of model families: the one model_type → family and preset → family table.</summary>
public static class ModelFamilies
{
    /// <summary>Every family, in the order presets are listed.</summary>
    public static IReadOnlyList<ModelFamily> All { get; } = [T5Family.Instance, RobertaFamily.Instance, LlamaFamily.Instance, BertFamily.Instance];

    /// <summary>Every preset name, in family order.</summary>
    public static IEnumerable<string> PresetNames => All.SelectMany(f => f.PresetNames);

    /// <summary>The family that loads config.json's <c>model_type</c>; <paramref name="source"/> names the file in the error.</summary>
    public static ModelFamily ForModelType(string? modelType, string source) =>
        All.FirstOrDefault(f => modelType is not null && f.ModelTypes.Contains(modelType, StringComparer.Ordinal))
        ?? throw new CheckpointException(modelType is null
            ? $"{source}: missing 'model_type'"
            : $"{source}: model_type '{modelType}' is not supported (supported: {string.Join(", ", All.SelectMany(f => f.ModelTypes))})");

    /// <summary>The family of preset <paramref name="name"/>, or null when no family has it.</summary>
    public static ModelFamily? ForPreset(string name) => All.FirstOrDefault(f => f.PresetNames.Contains(name, StringComparer.Ordinal));
}
