using Migu.Core.Optim;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Core.Tests;

/// <summary>
/// The leak check every MIGU training setup shares: a few masked steps on a padded (2, 5, 8) batch
/// bring the optimizer state and gradients to life, then many more must not change the number of
/// live tensors.
/// </summary>
internal static class MaskedStepLeakCheck
{
    public static void AssertNoGrowth(nn.Module<Tensor, Tensor> model, IRowMaskedOptimizer optimizer, MiguController migu, int steps)
    {
        using var x = randn(2, 5, 8);
        using var mask = tensor(new long[] { 1, 1, 1, 0, 0, 1, 1, 1, 1, 1 }).reshape(2, 5);

        void Step()
        {
            using var scope = NewDisposeScope();
            optimizer.ZeroGrad();
            using (TokenMask.Use(mask))
            using (migu.Recording())
            {
                model.call(x).square().mean().backward();
            }

            migu.Step(optimizer);
        }

        for (int i = 0; i < 3; i++)
        {
            Step(); // optimizer state and gradients come to life here
        }

        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < steps; i++)
        {
            Step();
        }

        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
