using Migu.Core;
using Migu.Models.Checkpoints;
using Migu.Models.Tokenizers;
using static TorchSharp.torch;

namespace Migu.Models;

/// <summary>
/// Builds a model from a Hugging Face checkpoint directory (config.json's <c>model_type</c> picks the
/// family, <c>architectures</c> the head) or from a preset name (random initialisation), alone or
/// with the tokenizer it will read: the one factory for "a checkpoint directory or a preset".
/// </summary>
public static class ModelLoader
{
    /// <summary>A directory with config.json, a hub id in the local cache (<see cref="HubCache"/>), or a preset name such as <c>llama-tiny</c> exactly as defined.</summary>
    public static LanguageModel Load(string directoryOrPreset, Device? device = null)
    {
        directoryOrPreset = HubCache.Resolve(directoryOrPreset);
        if (ModelCheckpoint.IsCheckpointDirectory(directoryOrPreset))
        {
            return FromCheckpoint(directoryOrPreset, device); // in eval mode
        }

        return PresetFamily(directoryOrPreset).FromPreset(directoryOrPreset, device);
    }

    /// <summary>
    /// A model that reads <paramref name="tokenizer"/>'s ids: a checkpoint's weights, which must hold
    /// every id of the tokenizer, or a preset sized to the tokenizer (<see cref="ModelFamily.FromPreset(string, ITextTokenizer, Device?)"/>).
    /// </summary>
    public static LanguageModel Load(string directoryOrPreset, ITextTokenizer tokenizer, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        directoryOrPreset = HubCache.Resolve(directoryOrPreset);
        if (!ModelCheckpoint.IsCheckpointDirectory(directoryOrPreset))
        {
            return PresetFamily(directoryOrPreset).FromPreset(directoryOrPreset, tokenizer, device);
        }

        LanguageModel model = FromCheckpoint(directoryOrPreset, device);
        if (tokenizer.VocabSize > model.VocabSize)
        {
            long vocabulary = model.VocabSize;
            model.Dispose();
            throw new MiguUserException(
                $"{directoryOrPreset}: the tokenizer has {tokenizer.VocabSize} ids but the model's vocabulary is {vocabulary}; they do not belong together");
        }

        return model;
    }

    /// <summary>
    /// The tokenizer that goes with a model: the files in <paramref name="tokenizerDirectory"/> when
    /// given, else a checkpoint's own, else (a preset) the embedded compact-2k tokenizer.
    /// </summary>
    public static ITextTokenizer TokenizerFor(string directoryOrPreset, string? tokenizerDirectory)
    {
        directoryOrPreset = HubCache.Resolve(directoryOrPreset);
        return tokenizerDirectory is not null ? TokenizerLoader.Load(HubCache.Resolve(tokenizerDirectory))
            : ModelCheckpoint.IsCheckpointDirectory(directoryOrPreset) ? TokenizerLoader.Load(directoryOrPreset)
            : EmbeddedTokenizer.Compact();
    }

    /// <summary>A model and the tokenizer it reads (<see cref="TokenizerFor"/>, then <see cref="Load(string, ITextTokenizer, Device?)"/>).</summary>
    public static (LanguageModel Model, ITextTokenizer Tokenizer) LoadWithTokenizer(string directoryOrPreset, string? tokenizerDirectory, Device? device = null)
    {
        ITextTokenizer tokenizer = TokenizerFor(directoryOrPreset, tokenizerDirectory);
        return (Load(directoryOrPreset, tokenizer, device), tokenizer);
    }

    /// <summary>
    /// A classifier over <paramref name="labels"/> and the tokenizer it reads: the encoder of a
    /// checkpoint (or of a preset, sized to the tokenizer) with a fresh head (<see cref="ModelFamily.ClassifierFromEncoder"/>).
    /// </summary>
    public static (LanguageModel Model, ITextTokenizer Tokenizer) LoadClassifier(
        string directoryOrPreset, string? tokenizerDirectory, IReadOnlyList<string> labels, Device? device = null)
    {
        ArgumentNullException.ThrowIfNull(labels);
        directoryOrPreset = HubCache.Resolve(directoryOrPreset);
        ModelFamily family = FamilyOf(directoryOrPreset);
        ITextTokenizer tokenizer = TokenizerFor(directoryOrPreset, tokenizerDirectory);
        if (!ModelCheckpoint.IsCheckpointDirectory(directoryOrPreset))
        {
            return (family.ClassifierFromPreset(directoryOrPreset, tokenizer, labels, device), tokenizer);
        }

        LanguageModel model = family.ClassifierFromEncoder(directoryOrPreset, labels, device);
        if (tokenizer.VocabSize > model.VocabSize)
        {
            long vocabulary = model.VocabSize;
            model.Dispose();
            throw new MiguUserException(
                $"{directoryOrPreset}: the tokenizer has {tokenizer.VocabSize} ids but the model's vocabulary is {vocabulary}; they do not belong together");
        }

        return (model, tokenizer);
    }

    /// <summary>The family of a checkpoint directory (its config.json's model_type) or of a preset, without building the model.</summary>
    public static ModelFamily FamilyOf(string directoryOrPreset)
    {
        directoryOrPreset = HubCache.Resolve(directoryOrPreset);
        if (!ModelCheckpoint.IsCheckpointDirectory(directoryOrPreset))
        {
            return PresetFamily(directoryOrPreset);
        }

        ConfigReader config = ConfigReader.FromFile(Path.Combine(directoryOrPreset, ModelCheckpoint.ConfigFile));
        return ModelFamilies.ForModelType(config.String("model_type"), config.Source);
    }

    private static LanguageModel FromCheckpoint(string directory, Device? device)
    {
        ConfigReader config = ConfigReader.FromFile(Path.Combine(directory, ModelCheckpoint.ConfigFile));
        return ModelFamilies.ForModelType(config.String("model_type"), config.Source).FromPretrained(directory, config, device);
    }

    private static ModelFamily PresetFamily(string name)
    {
        if (ModelFamilies.ForPreset(name) is { } family)
        {
            return family;
        }

        if (Directory.Exists(name))
        {
            throw new CheckpointException($"{name}: no config.json here; is this a Hugging Face checkpoint directory?");
        }

        throw new MiguUserException($"'{name}' is neither a checkpoint directory nor a preset (presets: {string.Join(", ", ModelFamilies.PresetNames)})");
    }
}
