namespace Migu.Continual.Training;

/// <summary>One training or evaluation example as text: the prompt the model reads and the answer it should produce.</summary>
public sealed record TextPair(string Prompt, string Target);
