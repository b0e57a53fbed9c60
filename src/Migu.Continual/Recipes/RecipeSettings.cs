namespace Migu.Continual.Recipes;

/// <summary>LoRA adapters (the paper's runs: r 8, α 32).</summary>
public sealed record LoraSettings
{
    public int Rank { get; init; } = 8;

    public double Alpha { get; init; } = 32;

    public double Dropout { get; init; } = 0.05;

    /// <summary>Which projections get adapters, in MIGU's layer syntax: all, attention, ffn, q,k,v,o, re:REGEX.</summary>
    public string Targets { get; init; } = "all";
}

/// <summary>Replay: a fixed sample of each past task mixed into the current task's training data.</summary>
public sealed record ReplaySettings
{
    /// <summary>Fraction of each past task's training set, sampled once per task with the run seed.</summary>
    public double Fraction { get; init; } = 0.02;

    /// <summary>What is trained: <c>ft</c> (all parameters) or <c>lora</c> (one adapter).</summary>
    public ContinualMethod Base { get; init; } = ContinualMethod.Ft;
}

/// <summary>O-LoRA's extra terms: λ1·Σ‖A_old·A_newᵀ‖₁ + λ2·Σ‖new adapter‖₂.</summary>
public sealed record OLoraSettings
{
    public double Lambda1 { get; init; } = 0.5;

    public double Lambda2 { get; init; }
}

/// <summary>Elastic weight consolidation with a diagonal empirical Fisher.</summary>
public sealed record EwcSettings
{
    /// <summary>Weight of the quadratic penalty (λ/2)·Σ F·(θ − θ*)².</summary>
    public double Lambda { get; init; } = 1000;

    /// <summary>Training examples of the finished task used to estimate the Fisher.</summary>
    public int FisherSamples { get; init; } = 256;
}

/// <summary>The optimiser and the loop; <see cref="TaskOverride"/> may change some per task.</summary>
public sealed record TrainingSettings
{
    public int Epochs { get; init; } = 1;

    public double Lr { get; init; } = 1e-4;

    /// <summary>Examples per optimizer step (split into micro-batches by <see cref="GradAccum"/>).</summary>
    public int Batch { get; init; } = 8;

    /// <summary>Micro-batches per optimizer step; the batch is divided among them.</summary>
    public int GradAccum { get; init; } = 1;

    public double WeightDecay { get; init; }

    public double Beta1 { get; init; } = 0.9;

    public double Beta2 { get; init; } = 0.999;

    public double Eps { get; init; } = 1e-8;

    public LrSchedule Schedule { get; init; } = LrSchedule.Constant;

    /// <summary>Linear warm-up over this fraction of each task's steps.</summary>
    public double WarmupRatio { get; init; }

    /// <summary>Gradient-norm clipping; 0 turns it off.</summary>
    public double ClipNorm { get; init; } = 1.0;

    /// <summary><c>fp32</c>, <c>bf16</c> (CUDA), or <c>auto</c> (bf16 on CUDA, fp32 on CPU).</summary>
    public string Dtype { get; init; } = "auto";

    /// <summary>Keep the token embeddings fixed (ft, replay, ewc).</summary>
    public bool FreezeEmbeddings { get; init; }

    public int MaxSourceLength { get; init; } = 512;

    public int MaxTargetLength { get; init; } = 50;

    /// <summary>Write a resumable mid-task checkpoint every N optimizer steps; 0 = only between tasks.</summary>
    public int CheckpointEvery { get; init; }

    /// <summary><c>all</c>: keep the checkpoint after every task; <c>last</c>: only the newest (large models).</summary>
    public string KeepCheckpoints { get; init; } = "all";
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
    /// <summary>Cap on training examples per task (stratified by label, seeded); null = all.</summary>
    public int? MaxTrain { get; init; }

    /// <summary>Cap on test examples per task (stratified, seeded); null = all.</summary>
    public int? MaxTest { get; init; }

    /// <summary>Fraction of the training set carved off as a dev split when the task has none.</summary>
    public double DevFraction { get; init; }

    /// <summary>A JSON file mapping task type (or dataset name) to an instruction; null = built-in instructions.</summary>
    public string? Instructions { get; init; }

    /// <summary>The key or column holding an example's text; null = <c>sentence</c>, or <c>text</c> where there is no <c>sentence</c>.</summary>
    public string? TextField { get; init; }

    /// <summary>The key or column holding an example's label; null = <c>label</c>.</summary>
    public string? LabelField { get; init; }
}

/// <summary>How and on what the model is scored after each task.</summary>
public sealed record EvalSettings
{
    public EvalMode Mode { get; init; } = EvalMode.Generate;

    public int Batch { get; init; } = 32;

    public int MaxNewTokens { get; init; } = 16;

    /// <summary>Score the model before any training too (the baseline that forward transfer needs).</summary>
    public bool Baseline { get; init; } = true;

    /// <summary>Which split is scored: <c>test</c> or <c>dev</c>.</summary>
    public string Split { get; init; } = "test";
}
