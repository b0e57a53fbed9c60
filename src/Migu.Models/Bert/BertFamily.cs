using Migu.Models.Checkpoints;
using Migu.Models.Tokenizers;
using static TorchSharp.torch;

namespace Migu.Models.Bert;

/// <summary>
/// BERT: an encoder (a bare encoder, masked LM, or a classification head over labels), which does
/// not generate; masked LM; documents framed [CLS] … [SEP]. config.json's <c>architectures</c>
/// picks the class (a config naming none is a bare <see cref="BertModel"/>).
/// </summary>
public sealed class BertFamily : ModelFamily
{
    private BertFamily()
    {
    }

    public static BertFamily Instance { get; } = new();

    public override string Name => "BERT";

    public override IReadOnlyList<string> ModelTypes { get; } = [BertConfig.ModelType];

    public override ModelArchitecture Architecture => ModelArchitecture.EncoderOnly;

    public override IReadOnlyCollection<string> PresetNames { get; } = [.. BertPresets.All.Keys];

    public override PretrainObjective Objective => PretrainObjective.Mlm;

    public override bool HasClassificationHead => true;

    public override LanguageModel FromPretrained(string directory, ConfigReader config, Device? device) =>
        BertConfig.FromConfig(config).Architecture switch
        {
            BertForSequenceClassification.ArchitectureName => BertForSequenceClassification.FromPretrained(directory, device),
            BertForMaskedLM.ArchitectureName or "BertForPreTraining" => BertForMaskedLM.FromPretrained(directory, device),
            _ => BertModel.FromPretrained(directory, device),
        };

    public override LanguageModel FromPreset(string name, Device? device)
    {
        BertConfig config = Preset(BertPresets.All, name);
        return config.Architecture switch
        {
            BertForSequenceClassification.ArchitectureName => new BertForSequenceClassification(config, device),
            BertForMaskedLM.ArchitectureName => new BertForMaskedLM(config, device),
            _ => new BertModel(config, addPoolingLayer: true, device),
        };
    }

    /// <summary>A masked LM (what an encoder preset is trained from scratch as) with the tokenizer's vocabulary and pad id.</summary>
    public override LanguageModel FromPreset(string name, ITextTokenizer tokenizer, Device? device)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        long pad = tokenizer.PadTokenId ?? tokenizer.EosTokenId
            ?? throw new Core.MiguUserException("the tokenizer has no pad token; a BERT preset pads with it");
        BertConfig config = Preset(BertPresets.All, name) with { VocabSize = VocabularyFor(tokenizer), PadTokenId = pad };
        return new BertForMaskedLM(config, device);
    }

    /// <summary>
    /// A fresh head on the mean of the last hidden state over real tokens, as sentence-transformers
    /// trains MiniLM and its kin (whose pooler, where the checkpoint has one, was never trained for
    /// it); <see cref="BertForSequenceClassification.FromEncoder"/> offers transformers' pooler head too.
    /// </summary>
    public override LanguageModel ClassifierFromEncoder(string directory, IReadOnlyList<string> labels, Device? device) =>
        BertForSequenceClassification.FromEncoder(directory, labels, ClassifierPooling.Mean, device);

    public override LanguageModel ClassifierFromPreset(string name, ITextTokenizer tokenizer, IReadOnlyList<string> labels, Device? device)
    {
        ArgumentNullException.ThrowIfNull(tokenizer);
        ArgumentNullException.ThrowIfNull(labels);
        long pad = tokenizer.PadTokenId ?? tokenizer.EosTokenId
            ?? throw new Core.MiguUserException("the tokenizer has no pad token; a BERT preset pads with it");
        BertConfig config = Preset(BertPresets.All, name) with
        {
            VocabSize = VocabularyFor(tokenizer),
            PadTokenId = pad,
            NumLabels = labels.Count,
            Id2Label = [.. labels],
            ClassifierPooling = ClassifierPooling.Mean,
        };
        return new BertForSequenceClassification(config, device);
    }

    /// <summary>[CLS] … [SEP] for a WordPiece tokenizer (whose BOS and EOS are unset, as in transformers); else the tokenizer's BOS … EOS.</summary>
    public override TextFraming Framing(ITextTokenizer tokenizer) => tokenizer is WordPieceTokenizer wordPiece
        ? new TextFraming(wordPiece.ClsTokenId, wordPiece.SepTokenId)
        : base.Framing(tokenizer);
}
