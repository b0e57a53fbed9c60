using System.Diagnostics;
using Migu.Continual.Training;
using Migu.Core;
using Migu.Core.Lora;
using Migu.Core.Optim;
using Migu.Core.Runtime;
using Migu.Models;
using TorchSharp;
using TorchSharp.Modules;
using static TorchSharp.torch;

namespace Migu.Continual.Bench;

/// <summary>
/// Times training steps of one <see cref="BenchCase"/>: build the preset on the device, then
/// warm-up and timed steps of forward, backward, MIGU's mask-and-step (or a plain step) on random
/// ids, synchronising the device around each step and reporting the median. No host sync happens
/// inside a step (the loss is read once, at the end).
/// </summary>
public static class ThroughputBenchmark
{
    /// <summary>Dense bf16 peak of an H100/H200 SXM, the reference script's MFU denominator.</summary>
    public const double PeakFlops = 989e12;

    public static BenchResult Run(BenchCase c, GpuMemoryMonitor? memory = null)
    {
        ArgumentNullException.ThrowIfNull(c);
        long rssBefore = ProcessMemory.ResetPeak();
        memory?.ResetPeak();
        using var session = new BenchSession(c);
        BenchBlock block = session.RunBlock(c.Migu?.Mode, PerformanceLevers.On(session.DeviceType), c.Warmup, c.Steps);
        double median = block.MedianMs;
        double tokensPerSecond = session.TokensPerStep / (median / 1000);
        return new BenchResult
        {
            Case = c.Name,
            Params = session.Params,
            Trainable = session.Trainable,
            Batch = c.Batch,
            Source = session.SourceAndTarget ? c.SourceLength : c.SequenceLength,
            Target = session.SourceAndTarget ? c.TargetLength : 0,
            StepMs = Math.Round(median, 2),
            TokensPerSecond = Math.Round(tokensPerSecond),
            PeakGib = session.IsCuda
                ? (memory is null ? null : Math.Round((memory.Peak - memory.Baseline) / (double)(1L << 30), 2))
                : Math.Round((ProcessMemory.Peak() - rssBefore) / (double)(1L << 30), 3),
            Loss = block.Loss,
            MfuPct = session.IsLora || !session.IsCuda ? null : Math.Round(100 * 6.0 * session.Params * tokensPerSecond / PeakFlops, 1),
            Dtype = session.Dtype,
            Device = session.Device,
            Levers = PerformanceLevers.On(session.DeviceType).ToString(),
            BreakdownMs = c.Breakdown ? block.BreakdownMs : null,
        };
    }

    internal static double Median(IReadOnlyCollection<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}

/// <summary>One block of timed steps: every step's milliseconds, their median, the last loss.</summary>
public sealed record BenchBlock(IReadOnlyList<double> StepMs, double MedianMs, double Loss, IReadOnlyDictionary<string, double> BreakdownMs);

/// <summary>
/// A case built once and stepped in blocks, each with its own MIGU mode (off, gradient, update) and
/// levers, so that one process can alternate them on one model and the comparison shares the model,
/// the allocator's state and the machine's moment. Update mode's per-row step counts are forgotten
/// after its block, so the other modes keep their usual path.
/// </summary>
public sealed class BenchSession : IDisposable
{
    private readonly BenchCase c;
    private readonly Device device;
    private readonly LanguageModel model;
    private readonly LoraAdapters? lora;
    private readonly IReadOnlyList<Parameter> trainable;
    private readonly IStatefulOptimizer optimizer;
    private readonly RandomBatches batches;
    private readonly Dictionary<MiguMode, MiguController> controllers = [];

    public BenchSession(BenchCase c)
    {
        ArgumentNullException.ThrowIfNull(c);
        if (c.Method is not ("ft" or "lora"))
        {
            throw new MiguUserException($"--method: '{c.Method}' is not ft or lora");
        }

        if (c.Steps < 1 || c.Warmup < 0 || c.Batch < 1)
        {
            throw new MiguUserException("--steps and --batch must be at least 1 and --warmup at least 0");
        }

        this.c = c;
        device = TorchRuntime.ParseDevice(c.Device);
        ScalarType weights = TrainingPrecision.Resolve(TrainingPrecision.Parse(c.Dtype), device);
        TorchSeed.All(0);
        model = Build(c.Model, device, weights);
        model.train();
        if (c.Method == "lora")
        {
            lora = LoraAdapters.Attach(model, new LoraOptions { Targets = "all", Adapter = new LoraAdapterConfig { Rank = 8, Alpha = 32, Dropout = 0 } });
            lora.AddAdapter("default", seed: 1);
        }

        trainable = lora is null ? [.. model.parameters()] : [.. lora.Parameters("default")];
        optimizer = TrainingPrecision.AdamW(trainable, weights, 1e-4, 0.9, 0.999, 1e-8, 0);
        batches = new RandomBatches(model, c, device);
        Dtype = weights == ScalarType.Float32 ? "fp32" : "bf16";
        Params = model.parameters().Sum(p => p.numel());
        Trainable = trainable.Sum(p => p.numel());
    }

    public long Params { get; }

    public long Trainable { get; }

    public long TokensPerStep => batches.TokensPerStep;

    public bool SourceAndTarget => batches.SourceAndTarget;

    public bool IsLora => lora is not null;

    public bool IsCuda => device.type == DeviceType.CUDA;

    public DeviceType DeviceType => device.type;

    public string Dtype { get; }

    public string Device => device.ToString();

    /// <summary>
    /// <paramref name="warmup"/> untimed steps, then <paramref name="steps"/> timed ones, with MIGU in
    /// <paramref name="mode"/> (null: off) at the case's threshold, under <paramref name="levers"/>.
    /// </summary>
    public BenchBlock RunBlock(MiguMode? mode, PerformanceLevers levers, int warmup, int steps)
    {
        ArgumentNullException.ThrowIfNull(levers);
        using var use = PerformanceLevers.Use(levers);
        MiguController? migu = mode is MiguMode m ? Controller(m) : null;
        var times = new List<double>();
        var parts = new Dictionary<string, List<double>>(StringComparer.Ordinal);
        Tensor? lastLoss = null;
        try
        {
            for (int i = 0; i < warmup + steps; i++)
            {
                using var stepScope = NewDisposeScope();
                ModelBatch batch = batches.Next();
                Synchronize();
                var clock = Stopwatch.StartNew();
                var marks = new List<(string, double)>();
                Tensor loss;
                using (migu?.Recording())
                {
                    loss = model.forward(batch).Loss!;
                    Mark(clock, marks, "forward");
                    loss.backward();
                    Mark(clock, marks, "backward");
                }

                // No clipping here, so nothing reads the gradients before the optimizer: the masks may fold into it.
                IReadOnlyDictionary<Parameter, Tensor>? rowMasks = migu?.MaskStep(optimizer);
                if (migu is not null)
                {
                    Mark(clock, marks, "migu");
                }

                optimizer.Step(rowMasks);
                optimizer.ZeroGrad();
                Synchronize();
                double ms = clock.Elapsed.TotalMilliseconds;
                if (i >= warmup)
                {
                    times.Add(ms);
                    double previous = 0;
                    foreach (var (name, at) in marks.Append(("optimizer", ms)))
                    {
                        (parts.TryGetValue(name, out List<double>? list) ? list : parts[name] = []).Add(at - previous);
                        previous = at;
                    }
                }

                lastLoss?.Dispose();
                lastLoss = loss.detach().to(ScalarType.Float32);
                lastLoss.MoveToOuterDisposeScope();
            }

            return new BenchBlock(
                [.. times.Select(t => Math.Round(t, 3))],
                Math.Round(ThroughputBenchmark.Median(times), 3),
                Math.Round(lastLoss!.item<float>(), 4),
                parts.ToDictionary(kv => kv.Key, kv => Math.Round(ThroughputBenchmark.Median(kv.Value), 2), StringComparer.Ordinal));
        }
        finally
        {
            lastLoss?.Dispose();
            if (mode == MiguMode.Update)
            {
                ForgetRowSteps();
            }
        }
    }

    /// <summary>Drops gradients a failed block left behind, so the next block starts clean.</summary>
    public void ZeroGrad() => optimizer.ZeroGrad();

    public void Dispose()
    {
        foreach (MiguController controller in controllers.Values)
        {
            controller.Dispose();
        }

        batches.Dispose();
        optimizer.Dispose();
        lora?.Dispose();
        model.Dispose();
    }

    /// <summary>
    /// The preset, in the training dtype. With the direct-bf16 lever a bf16 model is built with bf16
    /// as the default dtype, so its weights never exist in fp32 (no staging copy); else built in fp32 and converted.
    /// </summary>
    private static LanguageModel Build(string preset, Device device, ScalarType weights)
    {
        if (weights == ScalarType.Float32 || !PerformanceLevers.On(device.type).DirectBf16Build)
        {
            LanguageModel staged = ModelLoader.Load(preset, device);
            if (weights != ScalarType.Float32)
            {
                staged.to(weights);
            }

            return staged;
        }

        ScalarType previous = get_default_dtype();
        set_default_dtype(weights);
        try
        {
            LanguageModel direct = ModelLoader.Load(preset, device);
            direct.to(weights); // buffers made with an explicit fp32 dtype, if any
            return direct;
        }
        finally
        {
            set_default_dtype(previous);
        }
    }

    private MiguController Controller(MiguMode mode)
    {
        if (!controllers.TryGetValue(mode, out MiguController? controller))
        {
            MiguOptions options = (c.Migu ?? new MiguOptions()) with { Mode = mode };
            controller = new MiguController(lora is null ? MiguController.SelectTargets(model, options) : lora.MiguTargets("default"), options);
            controller.BeginTask(1); // on from the first step
            controllers[mode] = controller;
        }

        return controller;
    }

    private void ForgetRowSteps()
    {
        switch (optimizer)
        {
            case MixedPrecisionAdamW mixed:
                mixed.ForgetRowSteps();
                break;
            case RowMaskedAdamW plain:
                plain.ForgetRowSteps();
                break;
        }
    }

    private void Mark(Stopwatch clock, List<(string, double)> marks, string name)
    {
        if (c.Breakdown)
        {
            Synchronize();
            marks.Add((name, clock.Elapsed.TotalMilliseconds));
        }
    }

    private void Synchronize()
    {
        if (device.type == DeviceType.CUDA)
        {
            cuda.synchronize(device);
        }
    }
}
