using System.Text.Json.Serialization;
using Migu.Continual.Strategies;
using Migu.Core;
using Migu.Core.IO;

namespace Migu.Continual.Recipes;

/// <summary>LoRA adapters (the paper's runs: r 8, α 32).</summary>
public sealed record LoraSettings
{
    [Option("LoRA rank r", Flag = "--lora-rank")]
    public int Rank { get; init; } = 8;

    [Option("LoRA α; an adapter adds (α / r)·B·A", Flag = "--lora-alpha")]
    public double Alpha { get; init; } = 32;

    [Option("Dropout on the adapter's input (training only)", Flag = "--lora-dropout")]
    public double Dropout { get; init; } = 0.05;

    // "all", not the library's "q,v" (LoraOptions.Targets, PEFT's default): a run's MIGU selects
    // every attention and FFN projection by default (migu.layers), and masks the adapters only
    // where there are adapters, so LoRA + MIGU runs put adapters where MIGU looks.
    [Option("Projections with adapters: all (attention and FFN), attention, ffn, q,k,v,o or re:REGEX", Flag = "--lora-targets")]
    public string Targets { get; init; } = "all";
}

/// <summary>Replay: a fixed sample of each past task mixed into the current task's training data.</summary>
public sealed record ReplaySettings
{
    [Option("Fraction of each past task's training set replayed (a stratified sample drawn once per task)", Flag = "--replay-fraction")]
    public double Fraction { get; init; } = 0.02;

    [Option("What replay trains: ft (all parameters) or lora (one adapter)", Flag = "--replay-base")]
    [JsonConverter(typeof(MethodNameConverter))]
    public string Base { get; init; } = "ft";
}

/// <summary>O-LoRA's extra terms: λ1·Σ‖A_old·A_newᵀ‖₁ + λ2·Σ‖new adapter‖₂.</summary>
public sealed record OLoraSettings
{
    [Option("O-LoRA's orthogonality weight λ1", Flag = "--lambda1")]
    public double Lambda1 { get; init; } = 0.5;

    [Option("O-LoRA's L2 weight λ2", Flag = "--lambda2")]
    public double Lambda2 { get; init; }
}

/// <summary>Elastic weight consolidation with a diagonal empirical Fisher.</summary>
public sealed record EwcSettings
{
    [Option("EWC's penalty weight λ in (λ/2)·Σ F·(θ − θ*)²", Flag = "--ewc-lambda")]
    public double Lambda { get; init; } = 1000;

    [Option("Training examples of a finished task its Fisher is estimated on")]
    public int FisherSamples { get; init; } = 256;
}

/// <summary>
/// The optimiser and the loop; <see cref="TaskOverride"/> may change some per task. Aliases are Hugging
/// Face Trainer's names where the meaning is the same; where it differs, the help says how.
/// </summary>
public sealed record TrainingSettings
{
    [Option("Epochs per task", Flag = "--epochs", Aliases = ["--num-train-epochs"])]
    public int Epochs { get; init; } = 1;

    [Option("Learning rate (a schedule's peak)", Flag = "--lr", Aliases = ["--learning-rate"], Scopes = OptionScopes.Run | OptionScopes.Pretrain)]
    public double Lr { get; init; } = 1e-4;

    /// <summary>
    /// The classifier head's learning rate as a multiple of the schedule's (null: 1, and the recipe
    /// has no such key, so runs made before the setting existed read back unchanged).
    /// </summary>
    [Option("An encoder classifier's head (its projections outside the blocks: the classifier, and a pooler or dense layer before it) learns at this multiple of the learning rate, everything else at the learning rate (absent: 1)", Flag = "--head-lr-scale")]
    public double? HeadLrScale { get; init; }

    [Option("Examples per optimizer step over all ranks and micro-batches, so not Hugging Face's --per-device-train-batch-size: this is that × --gradient-accumulation-steps × ranks", Flag = "--batch", Unlike = ["--per-device-train-batch-size"], Scopes = OptionScopes.Run | OptionScopes.Pretrain)]
    public int Batch { get; init; } = 8;

    [Option("Micro-batches per optimizer step; the batch is divided among them (Hugging Face multiplies its per-device batch by them instead)", Flag = "--grad-accum", Aliases = ["--gradient-accumulation-steps"])]
    public int GradAccum { get; init; } = 1;

    [Option("AdamW weight decay, on every trained parameter (Hugging Face's Trainer spares biases and norm weights)", Flag = "--weight-decay")]
    public double WeightDecay { get; init; }

    [Option("AdamW β1", Flag = "--adam-beta1")]
    public double Beta1 { get; init; } = 0.9;

    [Option("AdamW β2", Flag = "--adam-beta2")]
    public double Beta2 { get; init; } = 0.999;

    [Option("AdamW ε", Flag = "--adam-epsilon")]
    public double Eps { get; init; } = 1e-8;

    [Option("Learning-rate schedule within a task, after the warm-up: constant, linear or cosine (Hugging Face's --lr-scheduler-type, but its constant skips the warm-up: ours is its constant_with_warmup)", Flag = "--schedule", Unlike = ["--lr-scheduler-type"])]
    public LrSchedule Schedule { get; init; } = LrSchedule.Constant;

    [Option("Linear warm-up over this fraction of each task's steps (transformers 5 takes it as --warmup-steps F, F < 1)", Flag = "--warmup", Aliases = ["--warmup-ratio"], Unlike = ["--warmup-steps"], Scopes = OptionScopes.Run | OptionScopes.Pretrain)]
    public double WarmupRatio { get; init; }

    [Option("Gradient-norm clipping (0 = off)", Flag = "--clip", Aliases = ["--max-grad-norm"])]
    public double ClipNorm { get; init; } = 1.0;

    [Option("fp32, bf16 (CUDA: bf16 weights, fp32 master weights) or auto (bf16 on CUDA, fp32 on the CPU)", Flag = "--dtype", Unlike = ["--fp16"])]
    [Shorthand("--bf16", "bf16", "fp32")]
    public TrainingDtype Dtype { get; init; } = TrainingDtype.Auto;

    [Option("Keep the token embeddings fixed (ft, replay, ewc)", Flag = "--freeze-embeddings")]
    public bool FreezeEmbeddings { get; init; }

    [Option("Prompt tokens at most", Flag = "--max-source-len", Scopes = OptionScopes.Run | OptionScopes.Eval)]
    public int MaxSourceLength { get; init; } = 512;

    [Option("Answer tokens at most (EOS included)", Flag = "--max-target-len", Scopes = OptionScopes.Run | OptionScopes.Eval)]
    public int MaxTargetLength { get; init; } = 50;

    [Option("A resumable mid-task checkpoint every N optimizer steps (0 = between tasks only)", Flag = "--checkpoint-every", Scopes = OptionScopes.Run | OptionScopes.Pretrain)]
    public int CheckpointEvery { get; init; }

    [Option("Task checkpoints kept: all, or last (large models)", Flag = "--keep-checkpoints")]
    public CheckpointRetention KeepCheckpoints { get; init; } = CheckpointRetention.All;
}

/// <summary>Settings one task may change.</summary>
public sealed record TaskOverride
{
    public int? Epochs { get; init; }

    public double? Lr { get; init; }

    public int? Batch { get; init; }

    /// <summary>O-LoRA's λ1 for this task.</summary>
    public double? Lambda1 { get; init; }

    /// <summary>O-LoRA's λ2 for this task.</summary>
    public double? Lambda2 { get; init; }
}

/// <summary>How task data is read and capped.</summary>
public sealed record DataSettings
{
    [Option("Training examples per task at most (stratified by label, seeded)", Flag = "--max-train")]
    public int? MaxTrain { get; init; }

    [Option("Scored examples per task at most (stratified by label, seeded)", Flag = "--max-test", Scopes = OptionScopes.Run | OptionScopes.Eval)]
    public int? MaxTest { get; init; }

    [Option("Fraction of the training set carved off as a dev split when the task has none", Flag = "--dev-fraction")]
    public double DevFraction { get; init; }

    [Option("A JSON file mapping task type or dataset name to an instruction (absent: built-in instructions)", Flag = "--instructions")]
    public string? Instructions { get; init; }

    /// <summary>The key or column holding an example's text; null = <c>sentence</c>, or <c>text</c> where there is no <c>sentence</c>.</summary>
    [Option("Key or column holding the text (absent: sentence, or text where there is no sentence)", Flag = "--text-field", Scopes = OptionScopes.Run | OptionScopes.Eval)]
    public string? TextField { get; init; }

    /// <summary>The key or column holding an example's label; null = <c>label</c>.</summary>
    [Option("Key or column holding the label (absent: label)", Flag = "--label-field", Scopes = OptionScopes.Run | OptionScopes.Eval)]
    public string? LabelField { get; init; }
}

/// <summary>How and on what the model is scored after each task.</summary>
public sealed record EvalSettings
{
    [Option("generate (greedy, exact match) or rank (the most likely label)", Flag = "--eval", Scopes = OptionScopes.Run | OptionScopes.Eval)]
    public EvalMode Mode { get; init; } = EvalMode.Generate;

    [Option("Sequences per evaluation batch on each device (rank scoring: one per prompt and label)", Flag = "--eval-batch", Aliases = ["--per-device-eval-batch-size"], Scopes = OptionScopes.Run | OptionScopes.Eval)]
    public int Batch { get; init; } = 32;

    [Option("Tokens generated per answer at most; in generate mode every label must fit (EOS may be cut), or the run is refused naming the label")]
    public int MaxNewTokens { get; init; } = 16;

    [Option("Score the untrained model first (the baseline forward transfer needs)", Flag = "--baseline")]
    public bool Baseline { get; init; } = true;

    [Option("Which split is scored: test or dev", Flag = "--split", Scopes = OptionScopes.Eval)]
    public string Split { get; init; } = "test";
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

/// <summary>The weights' dtype in training.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<TrainingDtype>))]
public enum TrainingDtype
{
    /// <summary>bf16 on CUDA, fp32 on the CPU.</summary>
    Auto,

    Fp32,

    /// <summary>bf16 weights and activations with fp32 master weights in the optimizer (CUDA).</summary>
    Bf16,
}

/// <summary>Which task checkpoints a run keeps.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<CheckpointRetention>))]
public enum CheckpointRetention
{
    /// <summary>The checkpoint after every task.</summary>
    All,

    /// <summary>Only the newest (large models).</summary>
    Last,
}
