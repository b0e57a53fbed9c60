using System.Text.Json.Serialization;
using Migu.Core.IO;

namespace Migu.Continual.Recipes;

/// <summary>The continual-learning strategies; each composes with MIGU on or off.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<ContinualMethod>))]
public enum ContinualMethod
{
    /// <summary>Sequential full fine-tuning of all parameters (embeddings optionally frozen).</summary>
    Ft,

    /// <summary>One LoRA adapter trained across all tasks; base weights frozen.</summary>
    Lora,

    /// <summary>Ft or LoRA with a fixed sample of every past task's training data mixed in.</summary>
    Replay,

    /// <summary>A new LoRA adapter per task; earlier adapters frozen and summed.</summary>
    Inclora,

    /// <summary>IncLoRA with O-LoRA's orthogonality (λ1) and L2 (λ2) terms.</summary>
    Olora,

    /// <summary>Ft with elastic weight consolidation (diagonal Fisher after each task).</summary>
    Ewc,

    /// <summary>Joint training on the union of all tasks: the multi-task upper bound.</summary>
    Mtl,

    /// <summary>Ft with MIGU's mask replaced by a random one (the random-update baseline).</summary>
    Random,
}

/// <summary>How a task is scored.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<EvalMode>))]
public enum EvalMode
{
    /// <summary>Greedy generation, exact match after normalisation (lower case, no punctuation, single spaces).</summary>
    Generate,

    /// <summary>Each label's log-likelihood after the prompt; the most likely label is the prediction.</summary>
    Rank,
}

/// <summary>Learning-rate schedule within a task.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<LrSchedule>))]
public enum LrSchedule
{
    Constant,
    Linear,
    Cosine,
}
