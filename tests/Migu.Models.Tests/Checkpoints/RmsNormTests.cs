using Migu.Models.Blocks;
using static TorchSharp.torch;

namespace Migu.Models.Tests.Checkpoints;

public class RmsNormTests
{
    [Fact]
    public void Normalises_by_the_root_mean_square_then_scales()
    {
        // x = [3, 4]: mean square 12.5, rms √12.5; weight [1, 2].
        using var norm = new RmsNorm(2, 0.0);
        using (no_grad())
        {
            norm.Weight.copy_(tensor(new float[] { 1, 2 }));
        }

        using var y = norm.call(tensor(new float[] { 3, 4 }).reshape(1, 2));
        float rms = MathF.Sqrt(12.5f);
        Assert.Equal(new[] { 3 / rms, 2 * 4 / rms }, y.data<float>().ToArray());
    }

    [Fact]
    public void Bf16_input_is_normalised_in_fp32_and_returned_in_bf16()
    {
        using var norm = new RmsNorm(3, 1e-6);
        using var x = tensor(new float[] { 1, 2, 3 }).to(ScalarType.BFloat16);
        using var y = norm.call(x);
        Assert.Equal(ScalarType.Float32, y.dtype); // fp32 weight × bf16 normed promotes, as transformers' T5/Llama norms do with fp32 weights
        Assert.True(y.allclose(tensor(new float[] { 1, 2, 3 }).div(MathF.Sqrt(14f / 3)), rtol: 1e-2, atol: 1e-2));
    }
}
