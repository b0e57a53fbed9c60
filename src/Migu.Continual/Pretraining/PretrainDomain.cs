namespace Migu.Continual.Pretraining;

/// <summary>One domain's text, split once: the documents trained on and those held out to measure the objective's loss.</summary>
public sealed record PretrainDomain(string Name, IReadOnlyList<string> Train, IReadOnlyList<string> HeldOut);
