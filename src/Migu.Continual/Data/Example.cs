namespace Migu.Continual.Data;

/// <summary>One labelled example: the input text and its label, which is also the target the model must generate.</summary>
public sealed record Example(string Sentence, string Label);
