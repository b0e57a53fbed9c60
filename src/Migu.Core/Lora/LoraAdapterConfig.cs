using System.Text.Json.Serialization;

namespace Migu.Core.Lora;

/// <summary>The hyper-parameters of one LoRA adapter. Immutable; round-trips through JSON as part of a recipe.</summary>
public sealed record LoraAdapterConfig
{
    /// <summary>r: the rank, the number of rows of A (r × d_in) and columns of B (d_out × r). The paper uses 8.</summary>
    public int Rank { get; init; } = 8;

    /// <summary>α: the update is scaled by α / r (α / √r with <see cref="UseRsLora"/>). The paper uses 32.</summary>
    public double Alpha { get; init; } = 32;

    /// <summary>Dropout on the adapter's input, in training mode only. The paper's scripts use 0.05–0.1.</summary>
    public double Dropout { get; init; } = 0.05;

    /// <summary>Rank-stabilised LoRA: scale by α / √r instead of α / r (PEFT's <c>use_rslora</c>).</summary>
    public bool UseRsLora { get; init; }

    /// <summary>s, the factor of B·A in the layer output.</summary>
    [JsonIgnore]
    public double Scaling => UseRsLora ? Alpha / Math.Sqrt(Rank) : Alpha / Rank;

    /// <summary>Throws <see cref="MiguUserException"/> naming the bad field.</summary>
    public void Validate()
    {
        if (Rank <= 0)
        {
            throw new MiguUserException($"LoRA rank r must be positive, got {Rank}");
        }

        if (!double.IsFinite(Alpha))
        {
            throw new MiguUserException($"LoRA alpha must be a finite number, got {Alpha}");
        }

        if (double.IsNaN(Dropout) || Dropout < 0 || Dropout >= 1)
        {
            throw new MiguUserException($"LoRA dropout must lie in [0, 1), got {Dropout}");
        }
    }
}
