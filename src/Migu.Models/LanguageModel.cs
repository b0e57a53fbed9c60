using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models;

/// <summary>
/// A model of one family. Parameter names are the Hugging Face state-dict keys, every linear map
/// is a <see cref="Migu.Core.Projection"/>, and each token stream's forward runs inside
/// <see cref="Migu.Core.TokenMask.Use"/> so MIGU excludes padding.
/// </summary>
public abstract class LanguageModel : nn.Module<ModelBatch, ModelOutput>
{
    protected LanguageModel(string name)
        : base(name)
    {
    }

    /// <summary>What the family is and can do (<see cref="ModelFamily"/>): ask it instead of testing the model's class.</summary>
    public abstract ModelFamily Family { get; }

    /// <summary>Rows of the token embedding: every id a tokenizer gives this model must be below it.</summary>
    public abstract long VocabSize { get; }

    /// <summary>Tokens one sequence may hold (learned positions), or null when positions are relative and set no limit.</summary>
    public virtual long? MaxPositions => null;

    /// <summary>Whether the head scores classes (one row per sequence) rather than tokens.</summary>
    public virtual bool IsClassifier => false;

    /// <summary>A classifier's class names in row order (config.json's id2label, else LABEL_i); null for other models.</summary>
    public virtual IReadOnlyList<string>? ClassLabels => null;

    /// <summary>The Hugging Face config.json this model was built from (and is saved with).</summary>
    public abstract string ConfigJson { get; }

    /// <summary>
    /// Greedy decoding with a KV cache, batched (left-padded prompts for decoder-only models).
    /// Returns what transformers' generate returns: for T5 the decoder output starting with the
    /// decoder start token; for decoder-only models the prompt followed by the new tokens. Rows
    /// that reached EOS are filled with the pad id after it; decoding stops when all rows have.
    /// </summary>
    public abstract Tensor Generate(Tensor inputIds, Tensor? attentionMask, int maxNewTokens);

    /// <summary>
    /// Other checkpoint keys that may hold a parameter (tied embeddings: T5's
    /// <c>shared.weight</c> is also stored as <c>encoder.embed_tokens.weight</c>, …).
    /// </summary>
    public virtual IReadOnlyDictionary<string, string[]>? CheckpointAliases => null;

    /// <summary>Checkpoint keys the model does not need and may skip (e.g. precomputed rotary tables).</summary>
    public virtual bool IsIgnorableCheckpointKey(string key) => false;

    /// <summary>True for a state-dict name that is only a tied copy of another parameter and is not saved.</summary>
    public virtual bool IsTiedCopy(string name) => false;
}
