using Migu.Continual.Forgetting;
using Migu.Continual.Pretraining;
using Migu.Core;

namespace Migu.Continual.Recipes;

/// <summary>
/// Everything a continual-learning run needs, as one immutable record that round-trips through
/// JSON (snake_case keys: <see cref="RecipeJson"/>). <c>migu run</c>'s flags map one to one onto
/// its fields, and the run store keeps the resolved recipe so a resumed run can be checked against it.
/// </summary>
public sealed record Recipe
{
    /// <summary>Task data root in the CL_Benchmark layout (ROOT/&lt;Type&gt;/&lt;dataset&gt;/…); null = the embedded demo stream.</summary>
    public string? Data { get; init; }

    /// <summary>Dataset names in training order; or null when <see cref="Order"/> names one of the papers' orders.</summary>
    public IReadOnlyList<string>? Tasks { get; init; }

    /// <summary>One of the papers' task orders, 1–6.</summary>
    public int? Order { get; init; }

    /// <summary>A Hugging Face checkpoint directory or a preset name (t5-tiny, llama-tiny, …).</summary>
    public string Model { get; init; } = "t5-tiny";

    /// <summary>Tokenizer directory; null = the checkpoint's own files, or the embedded tokenizer for presets.</summary>
    public string? Tokenizer { get; init; }

    public ContinualMethod Method { get; init; } = ContinualMethod.Ft;

    /// <summary>MIGU's settings; null = MIGU off. The random-update baseline uses its threshold too.</summary>
    public MiguOptions? Migu { get; init; }

    public LoraSettings Lora { get; init; } = new();

    public ReplaySettings Replay { get; init; } = new();

    public OLoraSettings Olora { get; init; } = new();

    public EwcSettings Ewc { get; init; } = new();

    public TrainingSettings Training { get; init; } = new();

    /// <summary>Per-task changes, keyed by dataset name.</summary>
    public IReadOnlyDictionary<string, TaskOverride>? PerTask { get; init; }

    public DataSettings DataOptions { get; init; } = new();

    public EvalSettings Eval { get; init; } = new();

    /// <summary>Continual pre-training (the DAS protocol): domains of unlabeled text instead of prompt fine-tuning; null = continual fine-tuning.</summary>
    public PretrainSettings? Pretrain { get; init; }

    /// <summary>With <see cref="Pretrain"/>: each task fine-tuned on a fresh copy of the pre-trained model and scored; null = pre-training only.</summary>
    public EndTaskSettings? EndTasks { get; init; }

    /// <summary>A decoder's general ability measured before training and after every epoch; null = off.</summary>
    public ForgettingSettings? Forgetting { get; init; }

    public long Seed { get; init; } = 42;

    /// <summary>cpu, cuda, cuda:N or auto. Not part of a run's identity: a run may resume on another device.</summary>
    public string Device { get; init; } = "cpu";
}
