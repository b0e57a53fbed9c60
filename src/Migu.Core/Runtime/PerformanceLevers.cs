using System.Collections.Concurrent;
using TorchSharp;

namespace Migu.Core.Runtime;

/// <summary>
/// Switches for the speed levers of the GPU performance work: each computes the same thing as the
/// path it replaces, by fewer kernels, fewer host synchronisations or less memory. They are read at
/// each use (a step, a forward), not at construction, so a benchmark can alternate them on one model
/// and measure before → after in one run. Each use asks for the levers <see cref="On"/> the device
/// it computes on: <see cref="Use"/>'s choice for the current flow of execution (async-local, so
/// parallel tests do not see each other's choice), else the <c>MIGU_LEVERS</c> environment variable
/// (a <see cref="Parse"/> spec), else that device's defaults (<see cref="Defaults"/> on the CPU,
/// <see cref="CudaDefaults"/> on a GPU). Which ones are on by default, and why, is in docs/performance.md.
/// </summary>
public sealed record PerformanceLevers
{
    private static readonly AsyncLocal<PerformanceLevers?> Override = new();

    /// <summary>Lever names as <see cref="Parse"/> reads them, with what each does.</summary>
    public static IReadOnlyDictionary<string, string> Names { get; } = new Dictionary<string, string>(StringComparer.Ordinal)
    {
        ["fused-adamw"] = "AdamW's whole-tensor update as aten::_fused_adamw_ (one kernel), called through TorchScript",
        ["indexed-rows"] = "update mode takes kept rows from the top-k indices (no nonzero, no host sync); bf16 weights of one shape update in one batch",
        ["folded-masks"] = "gradient-mode masks applied in the optimizer's fp32 gradient conversion instead of a pass per weight (only where nothing reads gradients in between)",
        ["l1-recording"] = "MIGU's Σ|y| as one fp32 L1-norm reduction (no |y| tensor)",
        ["fused-rmsnorm"] = "RMSNorm as aten::rms_norm through TorchScript",
        ["chunked-ce"] = "cross-entropy over low-precision logits in row chunks, fp32 inside each chunk, no fp32 copy of all logits",
        ["direct-bf16"] = "bf16 models built in bf16 (no fp32 staging copy); read when a model is built",
    };

    /// <summary>Every lever off: the code paths as they were before the levers existed.</summary>
    public static PerformanceLevers None { get; } = new();

    /// <summary>Every lever on.</summary>
    public static PerformanceLevers All { get; } = new()
    {
        FusedAdamW = true, IndexedUpdateRows = true, FoldedGradientMasks = true, L1Recording = true,
        FusedRmsNorm = true, ChunkedCrossEntropy = true, DirectBf16Build = true,
    };

    /// <summary>
    /// What is on on the CPU unless told otherwise: the levers whose results are bit-identical to the
    /// paths they replace. The others change results by rounding and were never measured faster on
    /// the CPU, so CPU runs (and the golden runs that pin them) keep the original kernels.
    /// </summary>
    public static PerformanceLevers Defaults { get; } = new() { IndexedUpdateRows = true, DirectBf16Build = true };

    /// <summary>
    /// What is on on a GPU unless told otherwise: <see cref="Defaults"/> and every lever that made
    /// llama-1b's MIGU step faster on its own on an H100 (fused AdamW −8.8 %, fused RMSNorm −14.8 %,
    /// one-pass recording −2.2 %, folded masks −1.2 %; docs/performance.md). Chunked cross-entropy
    /// stays off: it was 0.9 % slower there (it saves memory, not time).
    /// </summary>
    public static PerformanceLevers CudaDefaults { get; } = Defaults with
    {
        FusedAdamW = true, FoldedGradientMasks = true, L1Recording = true, FusedRmsNorm = true,
    };

    // After the defaults: static members initialise in the order they are written.
    private static readonly string? EnvironmentSpec =
        Environment.GetEnvironmentVariable("MIGU_LEVERS") is { Length: > 0 } spec ? spec : null;

    private static readonly ConcurrentDictionary<DeviceType, PerformanceLevers> ProcessDefaults = new();

    /// <summary>The defaults of a device type: <see cref="CudaDefaults"/> on CUDA, else <see cref="Defaults"/>.</summary>
    public static PerformanceLevers DefaultsFor(DeviceType device) => device == DeviceType.CUDA ? CudaDefaults : Defaults;

    /// <summary>The levers in force for work on <paramref name="device"/>: <see cref="Use"/>'s, else MIGU_LEVERS's, else the device's defaults.</summary>
    public static PerformanceLevers On(DeviceType device) => Override.Value
        ?? ProcessDefaults.GetOrAdd(device, d => EnvironmentSpec is null ? DefaultsFor(d) : Parse(EnvironmentSpec, d));

    public bool FusedAdamW { get; init; }

    public bool IndexedUpdateRows { get; init; }

    public bool FoldedGradientMasks { get; init; }

    public bool L1Recording { get; init; }

    public bool FusedRmsNorm { get; init; }

    public bool ChunkedCrossEntropy { get; init; }

    public bool DirectBf16Build { get; init; }

    /// <summary>Puts <paramref name="levers"/> in force until the returned scope is disposed.</summary>
    public static IDisposable Use(PerformanceLevers levers)
    {
        ArgumentNullException.ThrowIfNull(levers);
        PerformanceLevers? previous = Override.Value;
        Override.Value = levers;
        return new Restore(previous);
    }

    /// <summary>
    /// Reads a comma-separated spec, left to right: <c>default</c> (the defaults of
    /// <paramref name="device"/>), <c>none</c> or <c>all</c> set every lever; a name (optionally
    /// <c>+name</c>) turns one on, <c>-name</c> off. A spec that starts with a name starts from the
    /// device's defaults. Example: <c>none,+fused-adamw</c>.
    /// </summary>
    public static PerformanceLevers Parse(string spec, DeviceType device = DeviceType.CPU)
    {
        ArgumentNullException.ThrowIfNull(spec);
        PerformanceLevers defaults = DefaultsFor(device);
        PerformanceLevers levers = defaults;
        foreach (string raw in spec.Split(',', StringSplitOptions.RemoveEmptyEntries | StringSplitOptions.TrimEntries))
        {
            switch (raw)
            {
                case "default":
                    levers = defaults;
                    continue;
                case "none":
                    levers = None;
                    continue;
                case "all":
                    levers = All;
                    continue;
            }

            bool on = raw[0] != '-';
            string name = raw[0] is '-' or '+' ? raw[1..] : raw;
            levers = name switch
            {
                "fused-adamw" => levers with { FusedAdamW = on },
                "indexed-rows" => levers with { IndexedUpdateRows = on },
                "folded-masks" => levers with { FoldedGradientMasks = on },
                "l1-recording" => levers with { L1Recording = on },
                "fused-rmsnorm" => levers with { FusedRmsNorm = on },
                "chunked-ce" => levers with { ChunkedCrossEntropy = on },
                "direct-bf16" => levers with { DirectBf16Build = on },
                _ => throw new MiguUserException($"levers: '{name}' is not one of default, none, all, {string.Join(", ", Names.Keys)}"),
            };
        }

        return levers;
    }

    /// <summary>The spec that <see cref="Parse"/> reads back as these levers: the names that are on, or <c>none</c>.</summary>
    public override string ToString()
    {
        string[] on =
        [
            .. new (bool On, string Name)[]
            {
                (FusedAdamW, "fused-adamw"), (IndexedUpdateRows, "indexed-rows"), (FoldedGradientMasks, "folded-masks"),
                (L1Recording, "l1-recording"), (FusedRmsNorm, "fused-rmsnorm"), (ChunkedCrossEntropy, "chunked-ce"),
                (DirectBf16Build, "direct-bf16"),
            }.Where(l => l.On).Select(l => l.Name),
        ];
        return on.Length == 0 ? "none" : "none," + string.Join(',', on);
    }

    private sealed class Restore(PerformanceLevers? previous) : IDisposable
    {
        private bool done;

        public void Dispose()
        {
            if (!done)
            {
                Override.Value = previous;
                done = true;
            }
        }
    }
}
