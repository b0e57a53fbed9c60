namespace Migu.Models.T5;

/// <summary>
/// Named T5 configurations: the published v1.0 configs (t5-small/base/large: ReLU, tied head,
/// decoder output scaled), the FLAN-T5 configs (gated-gelu, untied head), and a tiny one for tests
/// and CPU demos.
/// </summary>
public static class T5Presets
{
    private const long T5Vocab = 32128;

    public static IReadOnlyDictionary<string, T5Config> All { get; } = new Dictionary<string, T5Config>(StringComparer.Ordinal)
    {
        ["t5-tiny"] = new()
        {
            VocabSize = 128, DModel = 32, DKv = 8, DFf = 64, NumLayers = 2, NumDecoderLayers = 2, NumHeads = 4,
            RelativeAttentionNumBuckets = 8, RelativeAttentionMaxDistance = 16,
        },
        // Small enough to train from scratch on two CPU cores in minutes.
        ["t5-mini"] = new()
        {
            VocabSize = 2048, DModel = 128, DKv = 32, DFf = 384, NumLayers = 3, NumDecoderLayers = 3, NumHeads = 4,
            FeedForwardProj = "gated-gelu", TieWordEmbeddings = false,
        },
        ["t5-small"] = V10(dModel: 512, dFf: 2048, layers: 6, heads: 8),
        ["t5-base"] = V10(dModel: 768, dFf: 3072, layers: 12, heads: 12),
        ["t5-large"] = V10(dModel: 1024, dFf: 4096, layers: 24, heads: 16),
        ["flan-t5-small"] = Flan(dModel: 512, dFf: 1024, layers: 8, heads: 6),
        ["flan-t5-base"] = Flan(dModel: 768, dFf: 2048, layers: 12, heads: 12),
    };

    /// <summary>The preset called <paramref name="name"/>; an unknown name is a user error listing the known ones.</summary>
    public static T5Config Get(string name) =>
        All.TryGetValue(name, out T5Config? config)
            ? config
            : throw new Migu.Core.MiguUserException($"unknown T5 preset '{name}' (known: {string.Join(", ", All.Keys)})");

    private static T5Config V10(long dModel, long dFf, long layers, long heads) => new()
    {
        VocabSize = T5Vocab, DModel = dModel, DKv = 64, DFf = dFf, NumLayers = layers, NumDecoderLayers = layers, NumHeads = heads,
        FeedForwardProj = "relu", TieWordEmbeddings = true,
    };

    private static T5Config Flan(long dModel, long dFf, long layers, long heads) => new()
    {
        VocabSize = T5Vocab, DModel = dModel, DKv = 64, DFf = dFf, NumLayers = layers, NumDecoderLayers = layers, NumHeads = heads,
        FeedForwardProj = "gated-gelu", TieWordEmbeddings = false,
    };
}
