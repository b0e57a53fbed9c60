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
        MaskedStepLeakCheck.AssertNoGrowth(model, optimizer, migu, steps: 50);
    }
}
