namespace Migu.Continual.Data;

/// <summary>The outcome of a stratified draw: the examples chosen and the rest, each in the original order.</summary>
public sealed record StratifiedSplit(IReadOnlyList<Example> Chosen, IReadOnlyList<Example> Rest);
