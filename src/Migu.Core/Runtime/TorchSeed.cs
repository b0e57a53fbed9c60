using static TorchSharp.torch;

namespace Migu.Core.Runtime;

/// <summary>
/// Seeds every generator a step can draw from. TorchSharp 0.107's <c>torch.manual_seed</c> seeds
/// only the CPU generator, while weights made on a CUDA device (<c>empty(..., device: cuda)</c> then
/// an init) and dropout on CUDA draw from the CUDA generators: with it alone, two CUDA runs of the
/// same recipe started from different weights (their held-out losses before training differed).
/// </summary>
public static class TorchSeed
{
    /// <summary>Seeds the CPU generator and, when CUDA is present, every CUDA device's.</summary>
    public static void All(long seed)
    {
        manual_seed(seed);
        if (cuda.is_available())
        {
            cuda.manual_seed_all(seed);
        }
    }
}
