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
        if (c.Method is not ("ft" or "lora"))
        {
            throw new MiguUserException($"--method: '{c.Method}' is not ft or lora");
        }

        if (c.Steps < 1 || c.Warmup < 0 || c.Batch < 1)
        {
            throw new MiguUserException("--steps and --batch must be at least 1 and --warmup at least 0");
        }

        Device device = TorchRuntime.ParseDevice(c.Device);
        ScalarType weights = TrainingPrecision.Resolve(TrainingPrecision.Parse(c.Dtype), device);
        long rssBefore = ProcessMemory.ResetPeak();
        memory?.ResetPeak();
        TorchSeed.All(0);
        using var scope = NewDisposeScope();
        using LanguageModel model = ModelLoader.Load(c.Model, device);
        if (weights != ScalarType.Float32)
        {
            model.to(weights);
        }

        model.train();
        LoraAdapters? lora = null;
        if (c.Method == "lora")
        {
            lora = LoraAdapters.Attach(model, new LoraOptions { Targets = "all", Adapter = new LoraAdapterConfig { Rank = 8, Alpha = 32, Dropout = 0 } });
            lora.AddAdapter("default", seed: 1);
        }

        try
        {
            IReadOnlyList<Parameter> trainable = lora is null ? [.. model.parameters()] : [.. lora.Parameters("default")];
            using IStatefulOptimizer optimizer = TrainingPrecision.AdamW(trainable, weights, 1e-4, 0.9, 0.999, 1e-8, 0);
            using MiguController? migu = c.Migu is null ? null : new MiguController(
                lora is null ? MiguController.SelectTargets(model, c.Migu) : lora.MiguTargets("default"), c.Migu);
            migu?.BeginTask(1); // on from the first step
            using var batches = new RandomBatches(model, c, device);
            var steps = new List<double>();
            var parts = new Dictionary<string, List<double>>(StringComparer.Ordinal);
            Tensor? lastLoss = null;
            for (int i = 0; i < c.Warmup + c.Steps; i++)
            {
                using var stepScope = NewDisposeScope();
                ModelBatch batch = batches.Next();
                Synchronize(device);
                var clock = Stopwatch.StartNew();
                var marks = new List<(string, double)>();
                Tensor loss;
                using (migu?.Recording())
                {
                    loss = model.forward(batch).Loss!;
                    Mark(c, device, clock, marks, "forward");
                    loss.backward();
                    Mark(c, device, clock, marks, "backward");
                }

                IReadOnlyDictionary<Parameter, Tensor>? rowMasks = migu?.MaskStep();
                if (migu is not null)
                {
                    Mark(c, device, clock, marks, "migu");
                }

                optimizer.Step(rowMasks);

                optimizer.ZeroGrad();
                Synchronize(device);
                double ms = clock.Elapsed.TotalMilliseconds;
                if (i >= c.Warmup)
                {
                    steps.Add(ms);
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

            double median = Median(steps);
            long tokens = batches.TokensPerStep;
            long parameters = model.parameters().Sum(p => p.numel());
            double tokensPerSecond = tokens / (median / 1000);
            return new BenchResult
            {
                Case = c.Name,
                Params = parameters,
                Trainable = trainable.Sum(p => p.numel()),
                Batch = c.Batch,
                Source = batches.SourceAndTarget ? c.SourceLength : c.SequenceLength,
                Target = batches.SourceAndTarget ? c.TargetLength : 0,
                StepMs = Math.Round(median, 2),
                TokensPerSecond = Math.Round(tokensPerSecond),
                PeakGib = device.type == DeviceType.CUDA
                    ? (memory is null ? null : Math.Round((memory.Peak - memory.Baseline) / (double)(1L << 30), 2))
                    : Math.Round((ProcessMemory.Peak() - rssBefore) / (double)(1L << 30), 3),
                Loss = Math.Round(lastLoss!.item<float>(), 4),
                MfuPct = lora is null && device.type == DeviceType.CUDA ? Math.Round(100 * 6.0 * parameters * tokensPerSecond / PeakFlops, 1) : null,
                Dtype = weights == ScalarType.Float32 ? "fp32" : "bf16",
                Device = device.ToString(),
                BreakdownMs = c.Breakdown ? parts.ToDictionary(kv => kv.Key, kv => Math.Round(Median(kv.Value), 2), StringComparer.Ordinal) : null,
            };
        }
        finally
        {
            lora?.Dispose();
        }
    }

    private static void Mark(BenchCase c, Device device, Stopwatch clock, List<(string, double)> marks, string name)
    {
        if (c.Breakdown)
        {
            Synchronize(device);
            marks.Add((name, clock.Elapsed.TotalMilliseconds));
        }
    }

    private static void Synchronize(Device device)
    {
        if (device.type == DeviceType.CUDA)
        {
            cuda.synchronize(device);
        }
    }

    private static double Median(List<double> values)
    {
        var sorted = values.Order().ToList();
        return sorted[sorted.Count / 2];
    }
}
