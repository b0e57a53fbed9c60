using System.Text.Json;
using Migu.Core;
using Migu.Core.IO;

namespace Migu.Continual.Pretraining;

/// <summary>
/// <c>pretraining.json</c> of a continual pre-training run: the domains and their sizes, and the
/// objective's loss on every domain's held-out text before training and after each domain
/// (l[i][j]: after domain i, on domain j; null when a domain has no held-out text). Rising values
/// in a column after its own domain are forgetting in the objective's terms. Rows match the domains
/// committed in metrics.json.
/// </summary>
public sealed record PretrainingReport
{
    public const string FileName = "pretraining.json";

    private static readonly JsonSerializerOptions Json = new() { PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower, WriteIndented = true };

    public int Schema { get; init; } = 1;

    /// <summary>mlm, span or causal.</summary>
    public required string Objective { get; init; }

    public required IReadOnlyList<string> Domains { get; init; }

    public required IReadOnlyList<int> TrainDocuments { get; init; }

    public required IReadOnlyList<int> TrainSequences { get; init; }

    public required IReadOnlyList<int> HeldOutDocuments { get; init; }

    public required IReadOnlyList<int> HeldOutSequences { get; init; }

    /// <summary>Held-out loss per domain before any training; null when the baseline is not measured.</summary>
    public IReadOnlyList<double?>? HeldOutLossBaseline { get; init; }

    /// <summary>Row i: held-out loss on every domain after training domain i.</summary>
    public IReadOnlyList<IReadOnlyList<double?>> HeldOutLoss { get; init; } = [];

    public static PretrainingReport? Read(string path)
    {
        if (!File.Exists(path))
        {
            return null;
        }

        try
        {
            return JsonSerializer.Deserialize<PretrainingReport>(File.ReadAllText(path), Json);
        }
        catch (JsonException e)
        {
            throw new MiguUserException($"{path}: not valid {FileName} ({e.Message.Split('\n')[0]})", e);
        }
    }

    public void Write(string path) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(this, Json));
}
