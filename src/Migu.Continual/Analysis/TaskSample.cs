using Migu.Continual.Data;
using Migu.Continual.Prompts;
using Migu.Continual.Recipes;
using Migu.Core;

namespace Migu.Continual.Analysis;

/// <summary>The prompts and answers of one task that every analysed model is fed (the same texts for all).</summary>
internal sealed record TaskSample(string Task, IReadOnlyList<PromptedExample> Examples)
{
    /// <summary>
    /// Up to <see cref="MagnitudeAnalysisSettings.Samples"/> examples of each task's split, stratified
    /// by label and drawn from the seed, the task and the purpose, so the draw of a task does not
    /// depend on which other tasks are analysed.
    /// </summary>
    public static IReadOnlyList<TaskSample> Draw(TaskCatalog catalog, IReadOnlyList<TaskEntry> tasks, MagnitudeAnalysisSettings settings)
    {
        var prompts = new PromptBuilder(InstructionSet.For(new DataSettings { Instructions = settings.Instructions }));
        var result = new List<TaskSample>(tasks.Count);
        foreach (TaskEntry entry in tasks)
        {
            TaskData data = catalog.Load(entry);
            IReadOnlyList<Example> split = data.Split(settings.Split);
            if (split.Count == 0)
            {
                throw new MiguUserException($"{data.Location}: the {settings.Split} split of {data.Name} is empty");
            }

            var drawn = StratifiedSampler.Sample(split, data.Labels, settings.Samples, SplitMix64.Derive(settings.Seed, data.Name, "magnitude-analysis"));
            result.Add(new TaskSample(data.Name, [.. drawn.Select(e => prompts.Build(data, e))]));
        }

        return result;
    }
}
