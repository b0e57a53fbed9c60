using Migu.Core.Runtime;
using TorchSharp;

namespace Migu.Core.Tests;

/// <summary>
/// Which levers are in force where: a GPU gets the levers measured faster on the H100, the CPU keeps
/// the bit-identical ones only (its golden runs pin the original kernels), and an explicit choice wins on both.
/// </summary>
public class PerformanceLeversTests
{
    [Fact]
    public void Work_on_the_CPU_keeps_the_original_kernels_and_work_on_a_GPU_gets_the_fused_ones()
    {
        if (Environment.GetEnvironmentVariable("MIGU_LEVERS") is { Length: > 0 } spec)
        {
            // An explicit process-wide choice is read per device ("default" in it means that device's).
            Assert.Equal(PerformanceLevers.Parse(spec, DeviceType.CUDA), PerformanceLevers.On(DeviceType.CUDA));
            return;
        }

        PerformanceLevers cpu = PerformanceLevers.On(DeviceType.CPU);
        PerformanceLevers cuda = PerformanceLevers.On(DeviceType.CUDA);
        // Nothing that changes a result by rounding runs on the CPU, so its golden runs stay valid.
        Assert.False(cpu.FusedAdamW || cpu.FoldedGradientMasks || cpu.L1Recording || cpu.FusedRmsNorm || cpu.ChunkedCrossEntropy);
        Assert.True(cpu.IndexedUpdateRows);
        // A GPU gets the four levers measured faster on the H100, and the bit-identical ones.
        Assert.True(cuda.FusedAdamW && cuda.FoldedGradientMasks && cuda.L1Recording && cuda.FusedRmsNorm && cuda.IndexedUpdateRows);
        Assert.False(cuda.ChunkedCrossEntropy);
        Assert.Same(PerformanceLevers.On(DeviceType.CUDA), cuda); // decided once per device, not at each forward
    }

    [Fact]
    public void The_CPU_defaults_change_no_result_and_the_GPU_defaults_add_the_four_measured_faster()
    {
        // CPU: only the levers whose results are bit-identical to the original paths.
        Assert.Equal("none,indexed-rows,direct-bf16", PerformanceLevers.Defaults.ToString());
        // GPU: those and fused AdamW, folded masks, one-pass recording and fused RMSNorm; chunked
        // cross-entropy was slower on the H100 and stays off.
        Assert.Equal("none,fused-adamw,indexed-rows,folded-masks,l1-recording,fused-rmsnorm,direct-bf16", PerformanceLevers.CudaDefaults.ToString());
        Assert.False(PerformanceLevers.CudaDefaults.ChunkedCrossEntropy);
    }

    [Fact]
    public void An_explicit_choice_is_in_force_on_every_device_until_its_scope_ends()
    {
        PerformanceLevers cpuBefore = PerformanceLevers.On(DeviceType.CPU);
        PerformanceLevers cudaBefore = PerformanceLevers.On(DeviceType.CUDA);
        using (PerformanceLevers.Use(PerformanceLevers.None))
        {
            Assert.Equal(PerformanceLevers.None, PerformanceLevers.On(DeviceType.CPU));
            Assert.Equal(PerformanceLevers.None, PerformanceLevers.On(DeviceType.CUDA));
        }

        Assert.Equal(cpuBefore, PerformanceLevers.On(DeviceType.CPU));
        Assert.Equal(cudaBefore, PerformanceLevers.On(DeviceType.CUDA));
    }

    [Fact]
    public void A_spec_reads_default_as_the_devices_defaults()
    {
        Assert.Equal(PerformanceLevers.CudaDefaults, PerformanceLevers.Parse("default", DeviceType.CUDA));
        Assert.Equal(PerformanceLevers.Defaults, PerformanceLevers.Parse("default", DeviceType.CPU));
        Assert.Equal(PerformanceLevers.Defaults, PerformanceLevers.Parse("default"));
        // A spec that starts with a name starts from the device's defaults.
        Assert.Equal(PerformanceLevers.CudaDefaults with { FusedRmsNorm = false }, PerformanceLevers.Parse("-fused-rmsnorm", DeviceType.CUDA));
        Assert.Equal(PerformanceLevers.Defaults with { FusedAdamW = true }, PerformanceLevers.Parse("+fused-adamw", DeviceType.CPU));
        Assert.Equal(PerformanceLevers.None with { ChunkedCrossEntropy = true }, PerformanceLevers.Parse("none,chunked-ce", DeviceType.CUDA));
    }
}
