namespace Migu.Core;

/// <summary>What a projection does inside a transformer; models set it, MIGU selects by it.</summary>
public enum ProjectionKind
{
    /// <summary>Anything not listed below; only a name pattern selects it.</summary>
    Other,

    /// <summary>Attention query (T5 q, Llama q_proj, RoBERTa query).</summary>
    Query,

    /// <summary>Attention key.</summary>
    Key,

    /// <summary>Attention value.</summary>
    Value,

    /// <summary>Attention output (T5 o, Llama o_proj, RoBERTa attention.output.dense).</summary>
    AttentionOutput,

    /// <summary>FFN input projection (T5 wi / wi_1, Llama up_proj, RoBERTa intermediate.dense).</summary>
    FeedForwardUp,

    /// <summary>Gate of a gated FFN (T5 v1.1 wi_0, Llama gate_proj).</summary>
    FeedForwardGate,

    /// <summary>FFN output projection (T5 wo, Llama down_proj, RoBERTa output.dense).</summary>
    FeedForwardDown,

    /// <summary>A head outside the blocks (lm_head, classifier); MIGU leaves it alone unless named.</summary>
    Head,
}
