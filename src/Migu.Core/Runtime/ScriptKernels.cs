using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Core.Runtime;

/// <summary>
/// libtorch operators that TorchSharp 0.107 does not bind, reached through TorchScript: a small
/// script compiled once per process (<c>torch.jit.compile</c>) whose functions call the aten ops, and
/// that TorchSharp's <c>CompilationUnit.invoke</c> runs with our tensors. Each call costs one
/// interpreter dispatch (about 30 µs measured on the 2-core development machine, against about 12 µs
/// for a bound in-place add), so these replace chains of several bound calls, never single ones.
/// TorchScript here knows dtypes by number (6 = float32) and cannot take int lists from TorchSharp,
/// so reduction dimensions are written into the script.
/// </summary>
public static class ScriptKernels
{
    // Some TorchScript errors escape TorchSharp's compile call uncaught and end the process, so this
    // text must stay as the tests run it: ScriptKernelsTests calls every function.
    private const string Source = """
        def fused_adamw(params: List[Tensor], grads: List[Tensor], exp_avgs: List[Tensor], exp_avg_sqs: List[Tensor], steps: List[Tensor], lr: float, beta1: float, beta2: float, weight_decay: float, eps: float):
            torch._fused_adamw_(params, grads, exp_avgs, exp_avg_sqs, [], steps, lr=lr, beta1=beta1, beta2=beta2, weight_decay=weight_decay, eps=eps, amsgrad=False, maximize=False)

        def add_l1(acc: Tensor, y: Tensor):
            acc.add_(torch.linalg_vector_norm(y, 1.0, [0], False, dtype=6))

        def add_l1_masked(acc: Tensor, y: Tensor, mask: Tensor):
            acc.add_(torch.linalg_vector_norm(y * mask.unsqueeze(1), 1.0, [0], False, dtype=6))

        def rms_norm(x: Tensor, weight: Tensor, eps: float):
            return torch.rms_norm(x, [x.size(-1)], weight, eps)

        """; // TorchScript's parser wants the last line ended

    private static readonly Lazy<jit.CompilationUnit> Unit = new(() => jit.compile(Source));

    /// <summary>
    /// aten::_fused_adamw_ over parallel lists (one multi-tensor kernel): torch.optim.AdamW's
    /// update, in place on <paramref name="weights"/>, <paramref name="expAvgs"/> and
    /// <paramref name="expAvgSqs"/>. <paramref name="steps"/> hold each tensor's step count
    /// (float32 scalars on the tensors' device), already counting this step. Gradients must have
    /// their weights' dtype.
    /// </summary>
    public static void FusedAdamW(Tensor[] weights, Tensor[] grads, Tensor[] expAvgs, Tensor[] expAvgSqs, Tensor[] steps, double lr, double beta1, double beta2, double weightDecay, double epsilon)
    {
        using Scalar l = lr.ToScalar(), b1 = beta1.ToScalar(), b2 = beta2.ToScalar(), wd = weightDecay.ToScalar(), eps = epsilon.ToScalar();
        Unit.Value.invoke("fused_adamw", weights, grads, expAvgs, expAvgSqs, steps, l, b1, b2, wd, eps);
    }

    /// <summary>
    /// <paramref name="accumulator"/> (units, fp32) += Σ over rows of |<paramref name="y"/>| (rows, units),
    /// as one L1-norm reduction that reads y once and accumulates in fp32 whatever y's dtype.
    /// </summary>
    public static void AddL1(Tensor accumulator, Tensor y) => Unit.Value.invoke("add_l1", accumulator, y);

    /// <summary>As <see cref="AddL1"/> over the rows where <paramref name="mask"/> (rows, y's dtype, 0 or 1) is 1.</summary>
    public static void AddL1Masked(Tensor accumulator, Tensor y, Tensor mask) => Unit.Value.invoke("add_l1_masked", accumulator, y, mask);

    /// <summary>aten::rms_norm over the last dimension: x / √(mean(x²) + ε) · weight, with autograd.</summary>
    public static Tensor RmsNorm(Tensor x, Tensor weight, double epsilon)
    {
        using Scalar eps = epsilon.ToScalar();
        return (Tensor)Unit.Value.invoke("rms_norm", x, weight, eps);
    }
}
