using static TorchSharp.torch;

namespace Migu.Continual.Analysis;

/// <summary>
/// An fp32 magnitude accumulator installed on each of a set of projections: their own recording
/// (Σ|y| per output unit over non-padding tokens, outside autograd) fills them, so the analysis
/// sees exactly what MIGU would rank. Uninstalls and frees them on dispose.
/// </summary>
internal sealed class ProjectionRecorders : IDisposable
{
    private readonly IReadOnlyList<AnalysisLayer> layers;
    private readonly Tensor[] sums;

    public ProjectionRecorders(IReadOnlyList<AnalysisLayer> layers)
    {
        this.layers = layers;
        sums = new Tensor[layers.Count];
        for (int i = 0; i < layers.Count; i++)
        {
            var p = layers[i].Projection;
            if (p.MagnitudeAccumulator is not null)
            {
                throw new InvalidOperationException($"{layers[i].Name} is already recording (is a MIGU controller attached?)");
            }

            sums[i] = zeros(p.OutFeatures, ScalarType.Float32, p.Weight.device);
            sums[i].DetachFromDisposeScope(); // owned here, not by the caller's scope
            p.MagnitudeAccumulator = sums[i];
        }
    }

    /// <summary>Each layer's Σ|y| since the last call, as doubles; the accumulators start again from zero.</summary>
    public double[][] TakeAndReset()
    {
        var result = new double[sums.Length][];
        using var noGrad = no_grad();
        for (int i = 0; i < sums.Length; i++)
        {
            // A scope, not `using` on the copy: on the CPU, cpu() may hand back the accumulator itself.
            using (var scope = NewDisposeScope())
            {
                result[i] = [.. sums[i].cpu().data<float>().ToArray().Select(v => (double)v)];
            }

            sums[i].zero_();
        }

        return result;
    }

    public void Dispose()
    {
        for (int i = 0; i < sums.Length; i++)
        {
            if (ReferenceEquals(layers[i].Projection.MagnitudeAccumulator, sums[i]))
            {
                layers[i].Projection.MagnitudeAccumulator = null;
            }

            sums[i].Dispose();
        }
    }
}
