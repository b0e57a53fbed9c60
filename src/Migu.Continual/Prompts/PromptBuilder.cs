using Migu.Continual.Data;

namespace Migu.Continual.Prompts;

/// <summary>
/// Turns an example into the reference code's prompt (O-LoRA / MIGU, with the task and dataset
/// names on):
/// <code>
/// Task:{type}\nDataset:{name}\n{instruction}Option: {label, label, …} \n{sentence}\nAnswer:
/// </code>
/// (note the space before the newline after the options). Multiple-choice tasks in COPA's style
/// (type or dataset named COPA) carry their choices inside the sentence, so they drop the
/// instruction and options: <c>Task:{type}\nDataset:{name}\n{sentence}\nAnswer:</c>. The target is
/// the label string.
/// </summary>
public sealed class PromptBuilder
{
    public PromptBuilder(InstructionSet instructions) => Instructions = instructions;

    /// <summary>A builder with the built-in instructions only.</summary>
    public PromptBuilder()
        : this(InstructionSet.BuiltIn)
    {
    }

    public InstructionSet Instructions { get; }

    public PromptedExample Build(TaskData task, Example example) => new(Prompt(task, example.Sentence), example.Label);

    /// <summary>The prompt for any text of the task (the label is not needed).</summary>
    public string Prompt(TaskData task, string sentence)
    {
        string header = $"Task:{task.Type}\nDataset:{task.Name}\n";
        return IsMultipleChoice(task.Name, task.Type)
            ? $"{header}{sentence}\nAnswer:"
            : $"{header}{Instructions.Resolve(task.Name, task.Type)}Option: {string.Join(", ", task.Labels)} \n{sentence}\nAnswer:";
    }

    /// <summary>COPA-style: the type or the dataset is named COPA (any case).</summary>
    public static bool IsMultipleChoice(string name, string type) =>
        string.Equals(type, "COPA", StringComparison.OrdinalIgnoreCase) || string.Equals(name, "COPA", StringComparison.OrdinalIgnoreCase);
}
