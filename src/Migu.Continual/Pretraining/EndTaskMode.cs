using System.Text.Json.Serialization;
using Migu.Core.IO;

namespace Migu.Continual.Pretraining;

/// <summary>How a domain's end task is fine-tuned and scored after continual pre-training.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<EndTaskMode>))]
public enum EndTaskMode
{
    /// <summary>Head for RoBERTa, generate for T5 and Llama.</summary>
    Auto,

    /// <summary>A fresh classification head on the encoder (RoBERTa's sequence classifier); the arg-max class is the prediction.</summary>
    Head,

    /// <summary>Prompt → label fine-tuning; greedy generation scored by exact match.</summary>
    Generate,

    /// <summary>Prompt → label fine-tuning; the most likely label is the prediction.</summary>
    Rank,
}
