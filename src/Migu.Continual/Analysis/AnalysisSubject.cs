namespace Migu.Continual.Analysis;

/// <summary>One model the analysis runs: a checkpoint directory or a preset, and where it came from.</summary>
/// <param name="Label">How tables and figures name it (unique within an analysis).</param>
/// <param name="Model">Checkpoint directory (config.json + weights) or preset name; for LoRA-type runs the base model.</param>
/// <param name="Run">The run directory it was taken from, or null.</param>
/// <param name="Note">What a reader should know, e.g. that the run is unfinished; null when nothing.</param>
public sealed record AnalysisSubject(string Label, string Model, string? Run = null, string? Note = null)
{
    /// <summary>Where the tokenizer files are; null = beside the model (or the embedded tokenizer for a preset).</summary>
    public string? TokenizerDirectory { get; init; }

    /// <summary>A run's adapters/ folder (PEFT adapters, loaded in task order over <see cref="Model"/>), or null.</summary>
    public string? AdaptersDirectory { get; init; }

    /// <summary>A checkpoint directory or preset given as it is; labelled by its folder name or the preset.</summary>
    public static AnalysisSubject ForModel(string model)
    {
        string name = Path.GetFileName(model.TrimEnd('/', '\\'));
        return new AnalysisSubject(name.Length == 0 ? model : name, model);
    }

    /// <summary>The model a run ends with; labelled by the run's folder name.</summary>
    public static AnalysisSubject ForRun(RunCheckpoint checkpoint)
    {
        string name = Path.GetFileName(Path.GetFullPath(checkpoint.RunDirectory).TrimEnd('/', '\\'));
        return new AnalysisSubject(name, checkpoint.BaseModel ?? checkpoint.Directory, checkpoint.RunDirectory, checkpoint.Note)
        {
            TokenizerDirectory = checkpoint.Directory, // every task checkpoint carries the run's tokenizer files
            AdaptersDirectory = checkpoint.AdaptersDirectory,
        };
    }

    /// <summary>
    /// Makes labels unique in order: a label seen before gets " (2)", " (3)", … so every table row
    /// and figure panel can be told apart.
    /// </summary>
    public static IReadOnlyList<AnalysisSubject> WithUniqueLabels(IReadOnlyList<AnalysisSubject> subjects)
    {
        var used = new HashSet<string>(StringComparer.Ordinal);
        var result = new List<AnalysisSubject>(subjects.Count);
        foreach (AnalysisSubject s in subjects)
        {
            string label = s.Label;
            for (int k = 2; !used.Add(label); k++)
            {
                label = $"{s.Label} ({k})";
            }

            result.Add(s with { Label = label });
        }

        return result;
    }
}
