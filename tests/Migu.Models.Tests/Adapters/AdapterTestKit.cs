using Migu.Core.Lora;
using TorchSharp;
using static TorchSharp.torch;

namespace Migu.Models.Tests.Adapters;

/// <summary>Temp folders and non-trivial adapters for the adapter-file tests.</summary>
internal static class AdapterTestKit
{
    public static string LlamaDirectory => Path.Combine(PeftFixture.FixturesRoot, "llama", "llama_gqa");

    public static string T5Directory => Path.Combine(PeftFixture.FixturesRoot, "t5", "v11");

    /// <summary>Overwrites A and B of <paramref name="name"/> with seeded normal values (std 0.3), so the adapter changes the output.</summary>
    public static void Randomize(LoraAdapters lora, string name, long seed)
    {
        using var generator = new torch.Generator((ulong)seed, new Device(DeviceType.CPU));
        using var noGrad = no_grad();
        foreach (var (_, a, b) in lora.Weights(name))
        {
            using var ra = randn(a.shape, generator: generator).mul_(0.3);
            using var rb = randn(b.shape, generator: generator).mul_(0.3);
            a.copy_(ra);
            b.copy_(rb);
        }
    }

    /// <summary>Same shape, dtype and every element bit for bit.</summary>
    public static bool Identical(Tensor a, Tensor b)
    {
        if (!a.shape.SequenceEqual(b.shape) || a.dtype != b.dtype)
        {
            return false;
        }

        using var same = a.detach().cpu().eq(b.detach().cpu()).all();
        return same.item<bool>();
    }

    /// <summary>A fresh folder under the temp directory, deleted when disposed.</summary>
    public sealed class TempFolder : IDisposable
    {
        public TempFolder() => System.IO.Directory.CreateDirectory(Path);

        public string Path { get; } = System.IO.Path.Combine(System.IO.Path.GetTempPath(), "migu-adapter-" + Guid.NewGuid().ToString("N"));

        public void Dispose()
        {
            if (System.IO.Directory.Exists(Path))
            {
                System.IO.Directory.Delete(Path, recursive: true);
            }
        }
    }
}
