namespace Migu.Models.Llama;

/// <summary>
/// Named Llama shapes. "llama-160m" and "llama-1b-like" are the configs of the PyTorch MIGU
/// reference (transformers' LlamaConfig defaults otherwise, vocab 32000, 2048 positions);
/// "llama-tiny" is for tests and smoke runs, "llama-mini" for CPU runs from scratch (the demo).
/// </summary>
public static class LlamaPresets
{
    public static IReadOnlyDictionary<string, LlamaConfig> All { get; } = new Dictionary<string, LlamaConfig>(StringComparer.Ordinal)
    {
        ["llama-tiny"] = new LlamaConfig
        {
            VocabSize = 512,
            HiddenSize = 64,
            IntermediateSize = 128,
            NumHiddenLayers = 2,
            NumAttentionHeads = 4,
            NumKeyValueHeadsSetting = 2,
            MaxPositionEmbeddings = 256,
        },
        // Small enough to train from scratch on two CPU cores in minutes (the demo's model).
        ["llama-mini"] = new LlamaConfig
        {
            VocabSize = 2048,
            HiddenSize = 128,
            IntermediateSize = 384,
            NumHiddenLayers = 4,
            NumAttentionHeads = 4,
            NumKeyValueHeadsSetting = 4,
            MaxPositionEmbeddings = 512,
        },
        ["llama-160m"] = Reference(768, 2048, 12, 12),
        ["llama-1b-like"] = Reference(2048, 5632, 16, 16),
    };

    private static LlamaConfig Reference(long hidden, long intermediate, long layers, long heads) => new()
    {
        VocabSize = 32000,
        HiddenSize = hidden,
        IntermediateSize = intermediate,
        NumHiddenLayers = layers,
        NumAttentionHeads = heads,
        NumKeyValueHeadsSetting = heads,
        MaxPositionEmbeddings = 2048,
    };
}
