using TorchSharp.Modules;

namespace Migu.Continual.Runs;

/// <summary>Scalars for TensorBoard (events/ of the run store), through TorchSharp's event writer.</summary>
public sealed class TensorBoardLog(string directory) : IDisposable
{
    private readonly SummaryWriter writer = TorchSharp.torch.utils.tensorboard.SummaryWriter(directory, createRunName: false);

    public void Scalar(string tag, double value, long step) => writer.add_scalar(tag, (float)value, (int)Math.Min(step, int.MaxValue));

    public void Dispose()
    {
        // SummaryWriter flushes each event as it is written and holds no native resources.
    }
}
