using Migu.Core.Lora;
using Migu.Core.Optim;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Core.Tests.Lora;

public class LoraLeakTests
{
    [Theory]
    [InlineData(MiguMode.Gradient)]
    [InlineData(MiguMode.Update)]
    public void Many_LoRA_MIGU_steps_with_dropout_and_two_adapters_leave_no_live_tensors_behind(MiguMode mode)
    {
        manual_seed(1);
        using var model = new TinyMlp();
        model.train();
        using var lora = LoraAdapters.Attach(model, new LoraOptions { Targets = "all", Adapter = LoraTestKit.Config(rank: 4, alpha: 8, dropout: 0.1) });
        lora.AddAdapter("old", seed: 1);
        lora.AddAdapter("new", seed: 2);
        using var optimizer = new RowMaskedAdamW(lora.Parameters("new"));
        using var migu = new MiguController(lora.MiguTargets("new"), new MiguOptions { Mode = mode, SkipFirstTask = false });
        MaskedStepLeakCheck.AssertNoGrowth(model, optimizer, migu, steps: 30);
    }

    [Fact]
    public void Attaching_adding_merging_and_detaching_leave_no_live_tensors_behind()
    {
        using var model = new TinyMlp();
        void Cycle()
        {
            using var lora = LoraAdapters.Attach(model, new LoraOptions { Targets = "all" });
            lora.AddAdapter("a", seed: 1);
            lora.AddAdapter("b", seed: 2);
            lora.Merge("a");
            lora.RemoveAdapter("b");
        }

        Cycle();
        long before = DisposeScopeManager.Statistics.ThreadTotalLiveCount;
        for (int i = 0; i < 5; i++)
        {
            Cycle();
        }

        Assert.Equal(before, DisposeScopeManager.Statistics.ThreadTotalLiveCount);
    }
}
