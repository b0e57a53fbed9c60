namespace Migu.Models.Roberta;

/// <summary>Named RoBERTa configurations.</summary>
public static class RobertaPresets
{
    /// <summary>A few-kilobyte model for tests, equal to the one tools/parity_roberta.py builds.</summary>
    public static RobertaConfig Tiny { get; } = new()
    {
        VocabSize = 96,
        HiddenSize = 32,
        NumHiddenLayers = 2,
        NumAttentionHeads = 4,
        IntermediateSize = 64,
        MaxPositionEmbeddings = 40,
    };

    /// <summary>
    /// Small enough to pre-train from scratch on two CPU cores in minutes (continual pre-training
    /// demos); 512 usable positions as roberta-base. The vocabulary size follows the tokenizer.
    /// </summary>
    public static RobertaConfig Mini { get; } = new()
    {
        VocabSize = 2048,
        HiddenSize = 128,
        NumHiddenLayers = 4,
        NumAttentionHeads = 4,
        IntermediateSize = 512,
        MaxPositionEmbeddings = 514,
    };

    /// <summary>The published FacebookAI/roberta-base config.json (125M parameters).</summary>
    public static RobertaConfig Base { get; } = new()
    {
        VocabSize = 50265,
        HiddenSize = 768,
        NumHiddenLayers = 12,
        NumAttentionHeads = 12,
        IntermediateSize = 3072,
        MaxPositionEmbeddings = 514,
        TypeVocabSize = 1,
        LayerNormEps = 1e-5,
        PadTokenId = 1,
        BosTokenId = 0,
        EosTokenId = 2,
    };

    /// <summary>All presets by name.</summary>
    public static IReadOnlyDictionary<string, RobertaConfig> All { get; } = new Dictionary<string, RobertaConfig>(StringComparer.Ordinal)
    {
        ["roberta-tiny"] = Tiny,
        ["roberta-mini"] = Mini,
        ["roberta-base"] = Base,
    };
}
