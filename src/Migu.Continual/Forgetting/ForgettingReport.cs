using System.Text.Json;
using Migu.Core;
using Migu.Core.IO;

namespace Migu.Continual.Forgetting;

/// <summary>
/// <c>forgetting.json</c> of a run with a <c>forgetting</c> section: the learning and forgetting
/// curve, one point before training and one after every epoch, in order. A resumed run replaces a
/// point it measures again (the same values: training resumes exactly).
/// </summary>
public sealed record ForgettingReport
{
    public const string FileName = "forgetting.json";

    private static readonly JsonSerializerOptions Json = new()
    {
        PropertyNamingPolicy = JsonNamingPolicy.SnakeCaseLower,
        DictionaryKeyPolicy = null,
        WriteIndented = true,
    };

    public int Schema { get; init; } = 1;

    public IReadOnlyList<ForgettingPoint> Points { get; init; } = [];

    /// <summary>The report with <paramref name="point"/> in its place (by task and epoch).</summary>
    public ForgettingReport With(ForgettingPoint point)
    {
        ArgumentNullException.ThrowIfNull(point);
        return this with
        {
            Points = [.. Points.Where(p => (p.TaskIndex, p.Epoch) != (point.TaskIndex, point.Epoch)).Append(point).OrderBy(p => p.TaskIndex).ThenBy(p => p.Epoch)],
        };
    }

    public bool Has(int taskIndex, int epoch) => Points.Any(p => p.TaskIndex == taskIndex && p.Epoch == epoch);

    public static ForgettingReport Read(string path)
    {
        if (!File.Exists(path))
        {
            return new ForgettingReport();
        }

        try
        {
            return JsonSerializer.Deserialize<ForgettingReport>(File.ReadAllText(path), Json) ?? new ForgettingReport();
        }
        catch (JsonException e)
        {
            throw new MiguUserException($"{path}: not a valid {FileName} ({e.Message.Split('\n')[0]})", e);
        }
    }

    public void Write(string path) => AtomicFile.WriteAllText(path, JsonSerializer.Serialize(this, Json));
}
