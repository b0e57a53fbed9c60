using Migu.Core.Lora;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Core.Tests.Lora;

/// <summary>Which projections LoRA wraps, and the errors a user can cause.</summary>
public class LoraAttachTests
{
    [Theory]
    [InlineData("all", new[] { "fc1", "fc2", "fc3" })]
    [InlineData("q", new[] { "fc2" })]
    [InlineData("ffn", new[] { "fc1", "fc3" })]
    [InlineData(@"re:^fc[13]$", new[] { "fc1", "fc3" })]
    public void Targets_select_by_kind_or_by_name_pattern(string targets, string[] expected)
    {
        using var model = new TinyMlp();
        using var lora = LoraAdapters.Attach(model, new LoraOptions { Targets = targets });
        Assert.Equal(expected, lora.Layers.Select(l => l.ModuleName));
        Assert.All(lora.Layers, l => Assert.Same(l, l.Projection.Lora));
    }

    [Fact]
    public void Named_selection_wraps_exactly_the_named_modules()
    {
        using var model = new TinyMlp();
        using var lora = LoraAdapters.Attach(model, LayerSelection.Named(["fc3", "fc1"]), new LoraOptions());
        Assert.Equal(["fc1", "fc3"], lora.Layers.Select(l => l.ModuleName));
    }

    [Fact]
    public void User_errors_are_clear()
    {
        using var model = new TinyMlp();
        Assert.Contains("select no trainable projection", Message(() => LoraAdapters.Attach(model, new LoraOptions { Targets = "head" })));
        Assert.Contains("LoRA targets: unknown selection 'qq'", Message(() => LoraAdapters.Attach(model, new LoraOptions { Targets = "qq" })));
        Assert.Contains("rank r must be positive", Message(() => LoraAdapters.Attach(model, new LoraOptions { Adapter = new LoraAdapterConfig { Rank = 0 } })));
        Assert.Contains("dropout must lie in [0, 1)", Message(() => LoraAdapters.Attach(model, new LoraOptions { Adapter = new LoraAdapterConfig { Dropout = 1 } })));

        using var lora = LoraAdapters.Attach(model, new LoraOptions { Targets = "q", FreezeModel = false });
        Assert.Contains("'fc2' already has LoRA attached", Message(() => LoraAdapters.Attach(model, new LoraOptions { Targets = "re:fc2", FreezeModel = false })));
        lora.AddAdapter("a", seed: 1);
        Assert.Contains("'a' already exists", Message(() => lora.AddAdapter("a", seed: 2)));
        Assert.Contains("contain no '.'", Message(() => lora.AddAdapter("a.b", seed: 2)));
        Assert.Contains("no adapter 'zz' (adapters: a)", Message(() => lora.SetActive(["zz"])));
        Assert.Contains("'a' is trainable", Message(() => lora.SetActive([])));
        lora.SetTrainable(null);
        lora.SetActive([]);
        Assert.Contains("'a' is not active", Message(() => lora.SetTrainable("a")));
    }

    [Fact]
    public void A_projection_recording_MIGU_magnitudes_for_its_own_weight_is_refused()
    {
        using var model = new TinyMlp();
        using var migu = new MiguController(model, new MiguOptions { Layers = "q", SkipFirstTask = false });
        using var recording = migu.Recording();
        Assert.Contains("dispose that MIGU controller", Message(() => LoraAdapters.Attach(model, new LoraOptions { Targets = "q" })));
    }

    [Fact]
    public void Removing_an_adapter_disposes_it_and_takes_it_out_of_the_sets()
    {
        manual_seed(2);
        using var model = new TinyMlp();
        using var lora = LoraAdapters.Attach(model, new LoraOptions { Targets = "all" });
        lora.AddAdapter("a", seed: 1);
        lora.AddAdapter("b", seed: 2);
        Parameter a = lora.Weights("a")[0].A;
        lora.RemoveAdapter("b");
        Assert.Equal(["a"], lora.AdapterNames);
        Assert.Equal(["a"], lora.ActiveAdapters);
        Assert.Null(lora.TrainableAdapter);
        Assert.All(lora.Layers, l => Assert.Equal(["a"], l.Adapters.Select(x => x.Name)));
        Assert.Same(a, lora.Weights("a")[0].A);
    }

    [Fact]
    public void A_detached_attachment_refuses_further_use()
    {
        using var model = new TinyMlp();
        var lora = LoraAdapters.Attach(model, new LoraOptions { Targets = "q" });
        lora.Dispose();
        Assert.Throws<ObjectDisposedException>(() => lora.AddAdapter("a", seed: 1));
        lora.Dispose(); // twice is fine
    }

    private static string Message(Action act) => Assert.Throws<MiguUserException>(act).Message;
}
