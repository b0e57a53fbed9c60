namespace Migu.Core.Lora;

/// <summary>Where LoRA goes in a model and the settings of its adapters. Immutable; round-trips through JSON.</summary>
public sealed record LoraOptions
{
    /// <summary>
    /// Which projections get LoRA, in <see cref="LayerSelection"/> syntax: "all" (attention and FFN),
    /// "attention", "ffn", a list such as "q,v", or "re:REGEX" on module names. Default "q,v", as
    /// PEFT's default for T5 and Llama; a continual run's recipe defaults to "all" instead, and
    /// Migu.Continual's <c>LoraSettings.Targets</c> says why.
    /// </summary>
    public string Targets { get; init; } = "q,v";

    /// <summary>
    /// True (as PEFT): every parameter of the model is frozen while LoRA is attached, so only adapters
    /// train. False: only the weights and biases of the wrapped projections are frozen (e.g. to train a
    /// classifier head beside the adapters). Either way detaching restores each flag as it was.
    /// </summary>
    public bool FreezeModel { get; init; } = true;

    /// <summary>The settings of adapters added without their own.</summary>
    public LoraAdapterConfig Adapter { get; init; } = new();

    /// <summary>Throws <see cref="MiguUserException"/> naming the bad field.</summary>
    public void Validate()
    {
        _ = LayerSelection.Parse(Targets, "LoRA targets");
        Adapter.Validate();
    }
}
