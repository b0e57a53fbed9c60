using Migu.Core.Optim;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Core.Tests;

public class LeakTests
{
    [Theory]
    [InlineData(MiguMode.Gradient, MaskSource.Magnitude)]
    [InlineData(MiguMode.Update, MaskSource.Magnitude)]
    [InlineData(MiguMode.Update, MaskSource.Random)]
    public void Many_masked_steps_leave_no_live_tensors_behind(MiguMode mode, MaskSource source)
    {
        torch.manual_seed(1);
        using var model = new TinyMlp();
        using var optimizer = new RowMaskedAdamW(model.parameters());
        using var migu = new MiguController(model, new MiguOptions { Mode = mode, Source = source, SkipFirstTask = false });
        using var x = randn(2, 5, 8);
        using var mask = tensor(new long[] { 1, 1, 1, 0, 0, 1, 1, 1, 1, 1 }).reshape(2, 5);

        void Step()
        {
            using var scope = NewDisposeScope();
            optimizer.ZeroGrad();
            using (TokenMask.Use(mask))
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
        for (int i = 0; i < 50; i++)
        {
            Step();
        }

        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
