using Migu.Core;

namespace Migu.Continual.Bench;

/// <summary>
/// One throughput case, shaped like the PyTorch reference's (../shared/reference): a preset with
/// random weights, random token ids, full fine-tuning or LoRA (r 8, α 32, every attention and FFN
/// projection), with or without MIGU, AdamW at lr 1e-4 without weight decay.
/// </summary>
public sealed record BenchCase
{
    /// <summary>A model preset (t5-large, llama-1b-like, llama-tiny, …).</summary>
    public required string Model { get; init; }

    /// <summary><c>ft</c> or <c>lora</c>.</summary>
    public string Method { get; init; } = "ft";

    /// <summary>MIGU's options; null = off.</summary>
    public MiguOptions? Migu { get; init; }

    public int Batch { get; init; } = 8;

    /// <summary>T5 encoder tokens per example.</summary>
    public int SourceLength { get; init; } = 256;

    /// <summary>T5 decoder tokens per example.</summary>
    public int TargetLength { get; init; } = 16;

    /// <summary>Decoder-only tokens per example.</summary>
    public int SequenceLength { get; init; } = 1024;

    /// <summary>Timed steps (the median is reported).</summary>
    public int Steps { get; init; } = 20;

    /// <summary>Untimed steps first.</summary>
    public int Warmup { get; init; } = 5;

    /// <summary><c>bf16</c> (weights and activations, fp32 master weights) or <c>fp32</c>.</summary>
    public string Dtype { get; init; } = "bf16";

    public string Device { get; init; } = "cuda";

    /// <summary>Time forward, backward, MIGU masking and the optimizer separately (adds synchronisations).</summary>
    public bool Breakdown { get; init; }

    /// <summary>The reference's case name: {model}-{ft|ftmigu|lora|loramigu}.</summary>
    public string Name => $"{Model}-{Method}{(Migu is null ? string.Empty : "migu")}";
}
