using System.Text.Json.Serialization;

namespace Migu.Continual.Bench;

/// <summary>One case's figures, with the PyTorch reference's field names so both print comparable JSON lines.</summary>
public sealed record BenchResult
{
    [JsonPropertyName("case")]
    public required string Case { get; init; }

    [JsonPropertyName("params")]
    public long Params { get; init; }

    [JsonPropertyName("trainable")]
    public long Trainable { get; init; }

    [JsonPropertyName("batch")]
    public int Batch { get; init; }

    [JsonPropertyName("src")]
    public int Source { get; init; }

    [JsonPropertyName("tgt")]
    public int Target { get; init; }

    [JsonPropertyName("step_ms")]
    public double StepMs { get; init; }

    [JsonPropertyName("tokens_per_s")]
    public double TokensPerSecond { get; init; }

    /// <summary>Peak device memory in use above what was in use before the case (GPU: NVML; CPU: peak RSS growth).</summary>
    [JsonPropertyName("peak_gib")]
    public double? PeakGib { get; init; }

    [JsonPropertyName("loss")]
    public double Loss { get; init; }

    /// <summary>6·params·tokens/s over the GPU's dense bf16 peak (989 TFLOP/s for H100/H200 SXM), full fine-tuning only.</summary>
    [JsonPropertyName("mfu_pct")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public double? MfuPct { get; init; }

    [JsonPropertyName("dtype")]
    public required string Dtype { get; init; }

    [JsonPropertyName("device")]
    public required string Device { get; init; }

    /// <summary>The speed levers in force (<see cref="Migu.Core.Runtime.PerformanceLevers"/>'s spec).</summary>
    [JsonPropertyName("levers")]
    public string? Levers { get; init; }

    /// <summary>Median milliseconds of forward, backward, MIGU masking and optimizer step, when measured apart.</summary>
    [JsonPropertyName("breakdown_ms")]
    [JsonIgnore(Condition = JsonIgnoreCondition.WhenWritingNull)]
    public IReadOnlyDictionary<string, double>? BreakdownMs { get; init; }
}
