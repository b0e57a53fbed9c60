using Migu.Continual.Data;
using Migu.Continual.Prompts;

namespace Migu.Continual.Runs;

/// <summary>
/// A task ready to run: its checked data (caps applied), the prompts built from it for training
/// and for scoring (the recipe's eval split), and the replay sample a later task may mix in.
/// </summary>
public sealed class LoadedTask
{
    private readonly PromptBuilder prompts;

    public LoadedTask(TaskData data, PromptBuilder prompts, string evalSplit = "test")
    {
        ArgumentNullException.ThrowIfNull(data);
        ArgumentNullException.ThrowIfNull(prompts);
        Data = data;
        this.prompts = prompts;
        Train = [.. data.Train.Select(e => prompts.Build(data, e))];
        Test = [.. data.Split(evalSplit).Select(e => prompts.Build(data, e))];
    }

    public TaskData Data { get; }

    public string Name => Data.Name;

    /// <summary>The task's label strings, in labels.json order.</summary>
    public IReadOnlyList<string> Labels => Data.Labels;

    public IReadOnlyList<PromptedExample> Train { get; }

    /// <summary>The scored split as prompts and gold answers.</summary>
    public IReadOnlyList<PromptedExample> Test { get; }

    /// <summary>The fixed replay sample of this task's training data (stratified, drawn from the run seed and the task).</summary>
    public IReadOnlyList<PromptedExample> ReplaySample(double fraction, long seed) =>
        [.. DataPreparation.ReplaySample(Data, fraction, seed).Select(e => prompts.Build(Data, e))];
}
