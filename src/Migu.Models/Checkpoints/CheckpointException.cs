using Migu.Core;

namespace Migu.Models.Checkpoints;

/// <summary>A checkpoint or config that does not fit: names the file and the key.</summary>
public sealed class CheckpointException : MiguUserException
{
    public CheckpointException()
    {
    }

    public CheckpointException(string message)
        : base(message)
    {
    }

    public CheckpointException(string message, Exception innerException)
        : base(message, innerException)
    {
    }
}
