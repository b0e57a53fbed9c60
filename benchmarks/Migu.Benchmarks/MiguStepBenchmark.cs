using BenchmarkDotNet.Attributes;
using BenchmarkDotNet.Configs;
using BenchmarkDotNet.Jobs;
using BenchmarkDotNet.Toolchains.InProcess.Emit;
using Migu.Core;
using Migu.Core.Optim;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Benchmarks;

/// <summary>
/// One training step (forward with padding mask, backward, AdamW) of a projection stack, with MIGU
/// off, in the paper's gradient mode, and in strict update mode. The ratio of the means is MIGU's
/// overhead. In-process, so it uses the GLIBCXX-patched native library of this build's output.
/// </summary>
[Config(typeof(Settings))]
#pragma warning disable CA1063 // BenchmarkDotNet needs an unsealed class; GlobalCleanup is the disposal.
public class MiguStepBenchmark : IDisposable
#pragma warning restore CA1063
{
    private ProjectionStack model = null!;
    private RowMaskedAdamW optimizer = null!;
    private MiguController? migu;
    private Tensor input = null!;
    private Tensor padding = null!;

    /// <summary>Model width d (the stack is 2 layers of d → 4d → d).</summary>
    [Params(512, 1024)]
    public int Width { get; set; }

    /// <summary>off, gradient or update.</summary>
    [Params("off", "gradient", "update")]
    public string Migu { get; set; } = "off";

    [GlobalSetup]
    public void Setup()
    {
        torch.manual_seed(0);
        model = new ProjectionStack(Width, layers: 2);
        optimizer = new RowMaskedAdamW(model.parameters(), 1e-4);
        if (Migu != "off")
        {
            var mode = Migu == "update" ? MiguMode.Update : MiguMode.Gradient;
            migu = new MiguController(model, new MiguOptions { Layers = "all", Mode = mode, SkipFirstTask = false });
        }

        input = randn(8, 64, Width); // 512 tokens
        padding = ones(8, 64);
        padding[.., 48..] = tensor(0f); // a quarter of the tokens are padding
        Step(); // optimizer state exists before measuring
    }

    [Benchmark]
    public void Step()
    {
        using var scope = NewDisposeScope();
        optimizer.ZeroGrad();
        using (TokenMask.Use(padding))
        using (migu?.Recording())
        {
            model.call(input).square().mean().backward();
        }

        optimizer.Step(migu?.MaskStep());
    }

    /// <summary>Switches MIGU off or on for the next steps (same model, same optimizer state).</summary>
    public void SetMiguActive(bool active) => migu?.SetActive(active);

    [GlobalCleanup]
    public void Dispose()
    {
        migu?.Dispose();
        optimizer.Dispose();
        model.Dispose();
        input.Dispose();
        padding.Dispose();
        GC.SuppressFinalize(this);
    }

    private sealed class Settings : ManualConfig
    {
        public Settings()
        {
            AddJob(Job.Default
                .WithToolchain(InProcessEmitToolchain.Instance)
                .WithLaunchCount(1)
                .WithWarmupCount(5)
                .WithIterationCount(30)
                .WithInvocationCount(4)
                .WithUnrollFactor(1));
            WithOptions(ConfigOptions.DisableOptimizationsValidator);
        }
    }
}
