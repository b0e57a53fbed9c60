namespace Migu.Continual.Prompts;

/// <summary>What the model reads and what it must answer: the prompt text and the label string.</summary>
public sealed record PromptedExample(string Prompt, string Target);
