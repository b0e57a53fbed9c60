using System.Globalization;
using System.Text.Json;
using Migu.Continual.Data;
using Migu.Continual.Runs;
using Migu.Continual.Training;
using Migu.Core;
using Migu.Core.Runtime;
using Migu.Models;
using static TorchSharp.torch;

namespace Migu.Continual.Analysis;

/// <summary>
/// The magnitude analysis of the paper's plots: every model is fed the same samples of each task
/// (prompt and answer, teacher-forced, fp32, eval mode, padding excluded), each selected layer's
/// per-unit Σ|y| becomes one vector per task, and tasks are compared by the cosine of their
/// vectors, layer by layer, then averaged. One layer's vectors, L1-normalised, are kept for plotting.
/// </summary>
public sealed class MagnitudeAnalyzer(MagnitudeAnalysisSettings settings, Action<string>? progress = null)
{
    public MagnitudeAnalysis Run(IReadOnlyList<AnalysisSubject> subjects)
    {
        settings.Validate();
        if (subjects.Count == 0)
        {
            throw new MiguUserException("no model to analyze: give --model DIR|PRESET or --run RUN_DIR");
        }

        Device device = TorchRuntime.ParseDevice(settings.Device);
        TaskCatalog catalog = TaskCatalog.ForRecipe(settings.Data);
        if (settings.Tasks is null && catalog.DefaultOrder is null)
        {
            throw new MiguUserException($"{catalog.Root}: no tasks named; give --tasks a,b,c (available: {catalog.Available()})");
        }

        IReadOnlyList<TaskEntry> entries = TaskOrders.Resolve(catalog, order: null, settings.Tasks);
        if (entries.Count < 2)
        {
            throw new MiguUserException($"comparing tasks needs two or more; got only {entries[0].Name}");
        }

        IReadOnlyList<TaskSample> samples = TaskSample.Draw(catalog, entries, settings);
        var models = new List<ModelMagnitudes>(subjects.Count);
        foreach (AnalysisSubject subject in AnalysisSubject.WithUniqueLabels(subjects))
        {
            models.Add(Analyze(subject, samples, device));
        }

        return new MagnitudeAnalysis
        {
            Data = catalog.Root,
            Tasks = [.. samples.Select(s => s.Task)],
            Split = settings.Split.ToLowerInvariant(),
            Samples = [.. samples.Select(s => s.Examples.Count)],
            Seed = settings.Seed,
            Layers = settings.Layers,
            Models = models,
        };
    }

    private ModelMagnitudes Analyze(AnalysisSubject subject, IReadOnlyList<TaskSample> samples, Device device)
    {
        progress?.Invoke($"{subject.Label}: loading {subject.Model}" + (subject.AdaptersDirectory is null ? string.Empty : $" with the adapters in {subject.AdaptersDirectory}"));
        using AnalysisModel loaded = AnalysisModel.Load(subject, device, settings.Seed);
        var all = LayerChoice.All(loaded.Model);
        var selected = LayerChoice.Select(all, settings.Layers, subject.Label);
        AnalysisLayer plotted = LayerChoice.Distribution(all, selected, settings.Layer, subject.Label);
        // The plotted layer is recorded even when the selection leaves it out (e.g. the head).
        List<AnalysisLayer> recorded = selected.Contains(plotted) ? [.. selected] : [.. selected, plotted];

        double[][][] sums = MagnitudeCollector.Collect(
            loaded.Model, Batches(loaded, subject.Label), recorded, samples, settings.Batch, device, line => progress?.Invoke($"{subject.Label}: {line}"));

        var layers = new List<LayerSimilarity>(selected.Count);
        for (int l = 0; l < selected.Count; l++)
        {
            // Cosine ignores scale, so the raw sums compare as well as per-token means would.
            double[][] similarity = MagnitudeMath.SimilarityMatrix([.. sums.Select(task => task[l])]);
            layers.Add(new LayerSimilarity
            {
                Name = selected[l].Name,
                Kind = JsonNamingPolicy.SnakeCaseLower.ConvertName(selected[l].Kind.ToString()),
                Similarity = similarity,
                MeanOffDiagonal = MagnitudeMath.MeanOffDiagonal(similarity),
            });
        }

        double[][] mean = MagnitudeMath.Mean([.. layers.Select(l => l.Similarity)]);
        int plottedIndex = recorded.IndexOf(plotted);
        return new ModelMagnitudes
        {
            Label = subject.Label,
            Model = subject.Model,
            Run = subject.Run,
            Adapters = subject.AdaptersDirectory,
            Note = subject.Note,
            DistributionLayer = plotted.Name,
            Distributions = [.. sums.Select(task => MagnitudeMath.L1Normalise(task[plottedIndex]))],
            Similarity = mean,
            MeanOffDiagonal = MagnitudeMath.MeanOffDiagonal(mean),
            Layers = layers,
        };
    }

    /// <summary>
    /// Batches as training builds them: a generative model reads prompt and answer teacher-forced;
    /// an encoder reads the example's text, as its classifier does (<see cref="ClassificationTasks"/>).
    /// </summary>
    private Func<TaskSample, ITrainingData> Batches(AnalysisModel loaded, string label)
    {
        if (!loaded.Model.Family.Generates)
        {
            int length = (int)Math.Min(settings.MaxSourceLength, loaded.Model.MaxPositions ?? long.MaxValue);
            TextFraming framing = loaded.Model.Family.Framing(loaded.Tokenizer);
            return sample => new ClassificationData([.. sample.Examples.Select(ClassificationTasks.TextOf)], null, ["-"], loaded.Tokenizer, framing, length);
        }

        ExampleEncoder encoder = Encoder(loaded, label);
        return sample => new EncodedTaskData([.. sample.Examples.Select(encoder.Encode)], encoder);
    }

    /// <summary>A decoder's prompt is cut so prompt and answer fit its positions.</summary>
    private ExampleEncoder Encoder(AnalysisModel loaded, string label)
    {
        int source = settings.MaxSourceLength;
        int target = settings.MaxTargetLength;
        if (loaded.Model.MaxPositions is long positions && source + target > positions)
        {
            source = (int)Math.Max(8, positions - target);
            progress?.Invoke(string.Create(CultureInfo.InvariantCulture, $"{label}: prompts are cut to {source} tokens: the model has {positions} positions and answers take up to {target}"));
        }

        return new ExampleEncoder(loaded.Tokenizer, loaded.Model.Family, source, target);
    }
}
