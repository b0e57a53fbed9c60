using System.Text.Json;
using Migu.Core.IO;

namespace Migu.Continual.Runs;

/// <summary>checkpoints/mid/mid.json: which task a mid-task checkpoint belongs to and how far it got.</summary>
public sealed record MidTaskState
{
    public const string FileName = "mid.json";
    public const string OptimizerFile = "optimizer.safetensors";

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    public required int TaskIndex { get; init; }

    /// <summary>Optimizer steps of the task already taken.</summary>
    public required int Step { get; init; }

    /// <summary>Training seconds of the task so far.</summary>
    public double TrainSeconds { get; init; }

    /// <summary>Tokens of the task so far.</summary>
    public long Tokens { get; init; }

    public static MidTaskState? Read(string directory)
    {
        string path = Path.Combine(directory, FileName);
        return File.Exists(path) ? JsonSerializer.Deserialize<MidTaskState>(File.ReadAllText(path), Json) : null;
    }

    public void Write(string directory) => AtomicFile.WriteAllText(Path.Combine(directory, FileName), JsonSerializer.Serialize(this, Json));
}
