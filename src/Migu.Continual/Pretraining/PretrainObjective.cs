using System.Text.Json.Serialization;
using Migu.Core.IO;

namespace Migu.Continual.Pretraining;

/// <summary>What a model learns from unlabeled text.</summary>
[JsonConverter(typeof(SnakeCaseEnumConverter<PretrainObjective>))]
public enum PretrainObjective
{
    /// <summary>The family's own objective: masked LM for RoBERTa, span corruption for T5, causal LM for Llama.</summary>
    Auto,

    /// <summary>Masked language modelling (BERT/RoBERTa): 15% of tokens chosen per sequence, 80% masked, 10% random, 10% kept.</summary>
    Mlm,

    /// <summary>T5's span corruption: 15% of tokens in spans of mean length 3, each span replaced by a sentinel in the input and spelled out after it in the target.</summary>
    Span,

    /// <summary>Next-token prediction (decoder-only models).</summary>
    Causal,
}
