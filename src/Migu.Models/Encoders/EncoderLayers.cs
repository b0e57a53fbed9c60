using Migu.Core;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Models.Encoders;

/// <summary>
/// The sizes the post-LN encoder of BERT and RoBERTa is built from; both families' configs give
/// them under the same config.json keys.
/// </summary>
public interface IEncoderConfig
{
    /// <summary>Rows of the word embedding (and of a tied MLM decoder).</summary>
    long VocabSize { get; }

    /// <summary>Width of the residual stream (C).</summary>
    long HiddenSize { get; }

    long NumHiddenLayers { get; }

    long NumAttentionHeads { get; }

    /// <summary>Width of the feed-forward layer inside each block.</summary>
    long IntermediateSize { get; }

    double HiddenDropoutProb { get; }

    double AttentionProbsDropoutProb { get; }

    long MaxPositionEmbeddings { get; }

    long TypeVocabSize { get; }

    double LayerNormEps { get; }

    /// <summary>Standard deviation of the normal initialisation of a fresh model.</summary>
    double InitializerRange { get; }

    /// <summary>The pad id, padding_idx of the word embedding.</summary>
    long PadTokenId { get; }

    long HeadDim { get; }
}

/// <summary>Multi-head self-attention of one block: query, key, value projections and scaled dot-product attention over real keys.</summary>
public sealed class EncoderSelfAttention : nn.Module
{
    // Field names are the checkpoint keys.
    private readonly Projection query;
    private readonly Projection key;
    private readonly Projection value;
    private readonly IEncoderConfig config;

    public EncoderSelfAttention(IEncoderConfig config, Device? device = null)
        : base(nameof(EncoderSelfAttention))
    {
        this.config = config;
        query = new Projection(config.HiddenSize, config.HiddenSize, kind: ProjectionKind.Query, device: device);
        key = new Projection(config.HiddenSize, config.HiddenSize, kind: ProjectionKind.Key, device: device);
        value = new Projection(config.HiddenSize, config.HiddenSize, kind: ProjectionKind.Value, device: device);
        RegisterComponents();
    }

    /// <param name="hidden">(B, T, C)</param>
    /// <param name="keyMask">(B, 1, 1, T) bool, true for keys that may be attended; null when nothing is padded.</param>
    /// <returns>(B, T, C), heads concatenated.</returns>
    public Tensor Forward(Tensor hidden, Tensor? keyMask)
    {
        using var scope = NewDisposeScope();
        long b = hidden.shape[0], t = hidden.shape[1];
        long h = config.NumAttentionHeads, d = config.HeadDim;
        Tensor q = query.call(hidden).view(b, t, h, d).transpose(1, 2); // (B, H, T, D)
        Tensor k = key.call(hidden).view(b, t, h, d).transpose(1, 2); // (B, H, T, D)
        Tensor v = value.call(hidden).view(b, t, h, d).transpose(1, 2); // (B, H, T, D)
        double dropout = training ? config.AttentionProbsDropoutProb : 0.0;
        Tensor y = nn.functional.scaled_dot_product_attention(q, k, v, keyMask, dropout); // (B, H, T, D)
        return y.transpose(1, 2).reshape(b, t, h * d).MoveToOuterDisposeScope(); // (B, T, C)
    }
}

/// <summary>
/// A projection, dropout, then LayerNorm of the residual sum: the post-LN "output" of both
/// sub-layers (transformers' BertSelfOutput / BertOutput and their RoBERTa copies).
/// </summary>
public sealed class EncoderResidualOutput : nn.Module
{
    // Field names are the checkpoint keys.
    private readonly Projection dense;
    private readonly LayerNorm LayerNorm;
    private readonly double dropout;

    public EncoderResidualOutput(long inFeatures, IEncoderConfig config, ProjectionKind kind, Device? device = null)
        : base(nameof(EncoderResidualOutput))
    {
        dropout = config.HiddenDropoutProb;
        dense = new Projection(inFeatures, config.HiddenSize, kind: kind, device: device);
        LayerNorm = nn.LayerNorm(config.HiddenSize, config.LayerNormEps, device: device);
        RegisterComponents();
    }

    /// <param name="input">(B, T, inFeatures)</param>
    /// <param name="residual">(B, T, C)</param>
    public Tensor Forward(Tensor input, Tensor residual)
    {
        using var scope = NewDisposeScope();
        Tensor y = nn.functional.dropout(dense.call(input), dropout, training); // (B, T, C)
        return LayerNorm.call(y.add(residual)).MoveToOuterDisposeScope();
    }
}

/// <summary>Self-attention and its output sub-layer (transformers' BertAttention: <c>self</c>, <c>output</c>).</summary>
public sealed class EncoderAttention : nn.Module
{
    // Field names are the checkpoint keys.
    private readonly EncoderSelfAttention self;
    private readonly EncoderResidualOutput output;

    public EncoderAttention(IEncoderConfig config, Device? device = null)
        : base(nameof(EncoderAttention))
    {
        self = new EncoderSelfAttention(config, device);
        output = new EncoderResidualOutput(config.HiddenSize, config, ProjectionKind.AttentionOutput, device);
        RegisterComponents();
    }

    public Tensor Forward(Tensor hidden, Tensor? keyMask)
    {
        using var scope = NewDisposeScope();
        Tensor attended = self.Forward(hidden, keyMask); // (B, T, C)
        return output.Forward(attended, hidden).MoveToOuterDisposeScope();
    }
}

/// <summary>The feed-forward input projection with exact (erf) GELU.</summary>
public sealed class EncoderIntermediate : nn.Module
{
    // Field name is the checkpoint key.
    private readonly Projection dense;

    public EncoderIntermediate(IEncoderConfig config, Device? device = null)
        : base(nameof(EncoderIntermediate))
    {
        dense = new Projection(config.HiddenSize, config.IntermediateSize, kind: ProjectionKind.FeedForwardUp, device: device);
        RegisterComponents();
    }

    public Tensor Forward(Tensor hidden)
    {
        using var scope = NewDisposeScope();
        return nn.functional.gelu(dense.call(hidden)).MoveToOuterDisposeScope(); // (B, T, I)
    }
}

/// <summary>One post-LN encoder block: attention sub-layer, then feed-forward sub-layer.</summary>
public sealed class EncoderLayer : nn.Module
{
    // Field names are the checkpoint keys.
    private readonly EncoderAttention attention;
    private readonly EncoderIntermediate intermediate;
    private readonly EncoderResidualOutput output;

    public EncoderLayer(IEncoderConfig config, Device? device = null)
        : base(nameof(EncoderLayer))
    {
        attention = new EncoderAttention(config, device);
        intermediate = new EncoderIntermediate(config, device);
        output = new EncoderResidualOutput(config.IntermediateSize, config, ProjectionKind.FeedForwardDown, device);
        RegisterComponents();
    }

    /// <param name="hidden">(B, T, C)</param>
    /// <param name="keyMask">(B, 1, 1, T) bool or null.</param>
    public Tensor Forward(Tensor hidden, Tensor? keyMask)
    {
        using var scope = NewDisposeScope();
        Tensor a = attention.Forward(hidden, keyMask); // (B, T, C)
        Tensor f = intermediate.Forward(a); // (B, T, I)
        return output.Forward(f, a).MoveToOuterDisposeScope(); // (B, T, C)
    }
}

/// <summary>The stack of encoder blocks (transformers' BertEncoder, blocks under <c>layer.{i}</c>).</summary>
public sealed class EncoderBlocks : nn.Module
{
    // Field name is the checkpoint key.
    private readonly ModuleList<EncoderLayer> layer;

    public EncoderBlocks(IEncoderConfig config, Device? device = null)
        : base(nameof(EncoderBlocks))
    {
        layer = new ModuleList<EncoderLayer>();
        for (long i = 0; i < config.NumHiddenLayers; i++)
        {
            layer.append(new EncoderLayer(config, device));
        }

        RegisterComponents();
    }

    /// <summary>
    /// The key mask the blocks use, (B, 1, 1, T) bool, from an attention mask (B, T); null for
    /// none. <paramref name="family"/> names the model in the error for a mask of the wrong shape.
    /// </summary>
    public static Tensor? KeyMask(Tensor inputIds, Tensor? attentionMask, string family)
    {
        if (inputIds.dim() != 2)
        {
            throw new MiguUserException($"{family}: input ids must be (batch, tokens), got [{string.Join(", ", inputIds.shape)}]");
        }

        if (attentionMask is null)
        {
            return null;
        }

        if (!attentionMask.shape.SequenceEqual(inputIds.shape))
        {
            throw new MiguUserException(
                $"{family}: attention mask [{string.Join(", ", attentionMask.shape)}] does not match input ids [{string.Join(", ", inputIds.shape)}]");
        }

        return attentionMask.ne(0).unsqueeze(1).unsqueeze(2).to(inputIds.device); // (B, 1, 1, T)
    }

    public Tensor Forward(Tensor hidden, Tensor? keyMask)
    {
        Tensor x = hidden;
        foreach (EncoderLayer block in layer)
        {
            using var scope = NewDisposeScope();
            x = block.Forward(x, keyMask).MoveToOuterDisposeScope(); // (B, T, C)
        }

        return x;
    }
}
