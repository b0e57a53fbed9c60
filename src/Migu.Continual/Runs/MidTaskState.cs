using System.Text.Json;
using Migu.Continual.Strategies;
using Migu.Core.IO;
using Migu.Core.Optim;
using TorchSharp.Modules;
using TorchSharp.PyBridge;

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

    /// <summary>The random-update baseline's mask generator state, base64 (<see cref="Core.MiguController.ExportRandomState"/>); null for magnitude masks or without MIGU.</summary>
    public string? MaskGenerator { get; init; }

    public static MidTaskState? Read(string directory)
    {
        string path = Path.Combine(directory, FileName);
        return File.Exists(path) ? JsonSerializer.Deserialize<MidTaskState>(File.ReadAllText(path), Json) : null;
    }

    public void Write(string directory) => AtomicFile.WriteAllText(Path.Combine(directory, FileName), JsonSerializer.Serialize(this, Json));

    /// <summary>Writes the strategy's weights, the optimizer state and this record as one directory (<see cref="RunStore.WriteDirectory"/>).</summary>
    public void Commit(string directory, IContinualStrategy strategy, IStatefulOptimizer optimizer, IReadOnlyDictionary<Parameter, string> names) =>
        RunStore.WriteDirectory(directory, temp =>
        {
            strategy.SaveCheckpoint(temp);
            Safetensors.SaveStateDict(Path.Combine(temp, OptimizerFile), optimizer.ExportState(names));
            Write(temp);
        });
}
