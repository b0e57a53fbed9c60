using System.Collections.Concurrent;
using Migu.Core.Runtime;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Blocks;

/// <summary>
/// The language models' token loss: mean cross-entropy of logits (N, V) against targets (N), −100
/// ignored, in fp32 whatever the logits' dtype (as autocast computes it). By default the logits are
/// copied to fp32 and handed to cross_entropy, which keeps an fp32 log-softmax of them for backward
/// (for Llama-1B at 8 × 1024 tokens: a 1 GB copy, a 1 GB saved output and 1 GB of fp32 gradient).
/// With the chunked-ce lever, a custom autograd function works through the rows in chunks: forward
/// keeps only each row's log-sum-exp (N floats); backward recomputes each chunk's softmax from the
/// logits and writes the gradient in the logits' dtype; no fp32 tensor of all logits ever exists.
/// </summary>
public static class TokenCrossEntropy
{
    /// <summary>Labels with this value add nothing to the loss.</summary>
    public const long IgnoreIndex = -100;

    /// <summary>Mean cross-entropy over targets ≠ −100 (NaN when there is none, as cross_entropy).</summary>
    public static Tensor Mean(Tensor logits, Tensor targets)
    {
        ArgumentNullException.ThrowIfNull(logits);
        ArgumentNullException.ThrowIfNull(targets);
        if (PerformanceLevers.On(logits.device_type).ChunkedCrossEntropy)
        {
            return Chunked.apply(logits, targets.to(ScalarType.Int64));
        }

        using var scope = NewDisposeScope();
        return nn.functional.cross_entropy(logits.to(ScalarType.Float32), targets.to(ScalarType.Int64), ignore_index: IgnoreIndex).MoveToOuterDisposeScope();
    }

    /// <summary>
    /// Loss = Σ_valid (logsumexp(x_i) − x_i[t_i]) / count; gradient (softmax(x_i) − onehot(t_i)) · valid_i · g / count.
    /// </summary>
    internal sealed class Chunked : autograd.SingleTensorFunction<Chunked>
    {
        /// <summary>Elements of fp32 per chunk: 128 MB by default; tests make it small to get many chunks.</summary>
        internal static long ChunkElements { get; set; } = 1L << 25;

        // Gradients handed to autograd: it takes its own reference while the backward call returns,
        // so ours is released at the next forward (a backward on a CUDA device thread has no dispose
        // scope, and leaving the tensor to the finalizer would hold its memory until a GC).
        private static readonly ConcurrentQueue<Tensor> Handed = new();

        public override string Name => "ChunkedCrossEntropy";

        public override Tensor forward(autograd.AutogradContext ctx, params object[] vars)
        {
            while (Handed.TryDequeue(out Tensor? old))
            {
                old.Dispose();
            }

            using var scope = NewDisposeScope();
            var logits = (Tensor)vars[0]; // (N, V)
            var targets = (Tensor)vars[1]; // (N)
            Tensor valid = targets.ne(IgnoreIndex); // (N)
            Tensor safe = targets.masked_fill(valid.logical_not(), 0); // ignored rows pick column 0, weighted by 0
            Tensor lse = empty(logits.shape[0], ScalarType.Float32, logits.device); // (N)
            foreach (var (start, rows) in Chunks(logits))
            {
                lse.narrow(0, start, rows).copy_(logits.narrow(0, start, rows).to(ScalarType.Float32).logsumexp(1));
            }

            Tensor picked = logits.gather(1, safe.unsqueeze(1)).squeeze(1).to(ScalarType.Float32); // (N)
            Tensor weight = valid.to(ScalarType.Float32);
            Tensor count = weight.sum();
            Tensor loss = lse.sub(picked).mul_(weight).sum().div_(count);
            // Saved after this returns: they must outlive this scope (autograd then holds its own references).
            ctx.save_for_backward([logits, safe.MoveToOuterDisposeScope(), weight.MoveToOuterDisposeScope(), lse.MoveToOuterDisposeScope(), count.MoveToOuterDisposeScope()]);
            return loss.MoveToOuterDisposeScope();
        }

        public override List<Tensor> backward(autograd.AutogradContext ctx, Tensor grad_output)
        {
            using var scope = NewDisposeScope();
            List<Tensor> saved = ctx.get_saved_variables();
            Tensor logits = saved[0], safe = saved[1], weight = saved[2], lse = saved[3], count = saved[4];
            Tensor rowScale = weight.mul(grad_output.to(ScalarType.Float32).div(count)).unsqueeze(1); // (N, 1)
            Tensor grad = empty_like(logits);
            foreach (var (start, rows) in Chunks(logits))
            {
                Tensor p = logits.narrow(0, start, rows).to(ScalarType.Float32).sub_(lse.narrow(0, start, rows).unsqueeze(1)).exp_(); // softmax
                p.scatter_add_(1, safe.narrow(0, start, rows).unsqueeze(1), full([rows, 1], -1f, ScalarType.Float32, p.device));
                grad.narrow(0, start, rows).copy_(p.mul_(rowScale.narrow(0, start, rows)));
            }

            grad.DetachFromDisposeScope();
            Handed.Enqueue(grad);
            return [grad, null!];
        }

        private static IEnumerable<(long Start, long Rows)> Chunks(Tensor logits)
        {
            long n = logits.shape[0];
            long step = Math.Max(1, ChunkElements / Math.Max(1, logits.shape[1]));
            for (long start = 0; start < n; start += step)
            {
                yield return (start, Math.Min(step, n - start));
            }
        }
    }
}
